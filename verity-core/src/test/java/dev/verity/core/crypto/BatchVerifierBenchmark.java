package dev.verity.core.crypto;

import dev.verity.core.VerificationException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * Ed25519 verification per signature: {@link PublicKey#verify} one at a time against {@link
 * BatchVerifier} at several batch sizes, in the same run (not a test). Keys come from a pool, as in
 * the ledger, where accounts sign many transactions. Arguments: [rounds] [key pool size].
 */
public final class BatchVerifierBenchmark {
  private BatchVerifierBenchmark() {}

  public static void main(String[] args) throws Exception {
    int rounds = args.length > 0 ? Integer.parseInt(args[0]) : 5;
    int pool = args.length > 1 ? Integer.parseInt(args[1]) : 1000;
    int total = 8192;
    Random rnd = new Random(7);
    List<Signer> signers = new ArrayList<>();
    for (int i = 0; i < pool; i++) {
      byte[] seed = new byte[32];
      rnd.nextBytes(seed);
      signers.add(Signer.fromSeed(seed));
    }
    PublicKey[] keys = new PublicKey[total];
    byte[][] msgs = new byte[total][];
    byte[][] sigs = new byte[total][];
    for (int i = 0; i < total; i++) {
      Signer s = signers.get(i % pool);
      msgs[i] = new byte[32];
      rnd.nextBytes(msgs[i]);
      keys[i] = s.publicKey();
      sigs[i] = s.sign(msgs[i]);
    }
    SecureRandom secure = new SecureRandom();
    System.out.printf("load average before: %s%n", loadAverage());
    int[] sizes = {8, 32, 64, 128, 256, 512};
    double bestSingle = Double.MAX_VALUE;
    double[] best = new double[sizes.length];
    java.util.Arrays.fill(best, Double.MAX_VALUE);
    for (int round = 0; round < rounds; round++) {
      long t0 = System.nanoTime();
      for (int i = 0; i < total; i++) {
        keys[i].verify(msgs[i], sigs[i]);
      }
      double single = (System.nanoTime() - t0) / 1e3 / total;
      bestSingle = Math.min(bestSingle, single);
      StringBuilder line = new StringBuilder(String.format("round %d: single %.1f us/sig", round, single));
      for (int si = 0; si < sizes.length; si++) {
        int size = sizes[si];
        long b0 = System.nanoTime();
        for (int start = 0; start + size <= total; start += size) {
          BatchVerifier b = BatchVerifier.create(secure);
          for (int i = start; i < start + size; i++) {
            b.add(keys[i], msgs[i], sigs[i]);
          }
          b.verifyAll();
        }
        double per = (System.nanoTime() - b0) / 1e3 / (total / size * size);
        best[si] = Math.min(best[si], per);
        line.append(String.format(" | batch %d: %.1f", size, per));
      }
      System.out.println(line);
    }
    StringBuilder summary = new StringBuilder(String.format(
        "best of %d rounds, us per signature: single %.1f", rounds, bestSingle));
    for (int si = 0; si < sizes.length; si++) {
      summary.append(String.format(" | batch %d: %.1f (%.2fx)", sizes[si], best[si], bestSingle / best[si]));
    }
    System.out.println(summary);
    System.out.printf("load average after: %s%n", loadAverage());
    checkRejects(keys, msgs, sigs);
  }

  private static void checkRejects(PublicKey[] keys, byte[][] msgs, byte[][] sigs) {
    BatchVerifier b = BatchVerifier.create();
    for (int i = 0; i < 64; i++) {
      byte[] s = sigs[i].clone();
      if (i == 37) {
        s[5] ^= 1;
      }
      b.add(keys[i], msgs[i], s);
    }
    try {
      b.verifyAll();
      throw new AssertionError("a batch with a bad signature verified");
    } catch (VerificationException e) {
      System.out.println("bad batch rejected: " + e.getMessage());
    }
  }

  private static String loadAverage() {
    try {
      return Files.readString(Path.of("/proc/loadavg")).trim();
    } catch (Exception e) {
      return "unknown";
    }
  }
}
