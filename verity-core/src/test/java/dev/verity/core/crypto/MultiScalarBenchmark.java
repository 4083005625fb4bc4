package dev.verity.core.crypto;

import java.math.BigInteger;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * Why {@link BatchVerifier} uses Straus' method: the batch equation of n signatures computed with
 * Straus (interleaved width-5 forms, a table of odd multiples per point; what BatchVerifier does)
 * against Pippenger's bucket method (signed radix-2^c digits, one bucket per digit value), on the
 * same inputs, for n = 32 to 512. Each side includes decoding R and preparing its points; the
 * hashing and scalar arithmetic shared by both are done before timing. Not a test.
 * Arguments: [rounds].
 */
public final class MultiScalarBenchmark {
  private MultiScalarBenchmark() {}

  private record Inputs(byte[][] rEncodings, BigInteger[] z, PublicKey[] keys, BigInteger[] keyCoefficient,
      BigInteger baseCoefficient) {}

  public static void main(String[] args) throws Exception {
    int rounds = args.length > 0 ? Integer.parseInt(args[0]) : 3;
    Random rnd = new Random(1);
    List<Signer> signers = new ArrayList<>();
    for (int i = 0; i < 1000; i++) {
      byte[] seed = new byte[32];
      rnd.nextBytes(seed);
      signers.add(Signer.fromSeed(seed));
    }
    System.out.println("load average before: " + Files.readString(Path.of("/proc/loadavg")).trim());
    int[] sizes = {32, 64, 128, 256, 512};
    int[] widths = {5, 6, 7, 8};
    double[][] best = new double[sizes.length][1 + widths.length];
    for (double[] b : best) {
      java.util.Arrays.fill(b, Double.MAX_VALUE);
    }
    for (int round = 0; round < rounds; round++) {
      for (int si = 0; si < sizes.length; si++) {
        int n = sizes[si];
        int reps = Math.max(2, 2048 / n);
        List<Inputs> inputs = new ArrayList<>();
        for (int r = 0; r < reps; r++) {
          inputs.add(inputs(signers, n, rnd));
        }
        long t0 = System.nanoTime();
        for (Inputs in : inputs) {
          check(straus(in));
        }
        best[si][0] = Math.min(best[si][0], (System.nanoTime() - t0) / 1e3 / (reps * n));
        for (int wi = 0; wi < widths.length; wi++) {
          long t1 = System.nanoTime();
          for (Inputs in : inputs) {
            check(pippenger(in, widths[wi]));
          }
          best[si][1 + wi] = Math.min(best[si][1 + wi], (System.nanoTime() - t1) / 1e3 / (reps * n));
        }
      }
    }
    System.out.println("best of " + rounds + " rounds, microseconds per signature (multi-scalar part and R decoding):");
    for (int si = 0; si < sizes.length; si++) {
      StringBuilder line = new StringBuilder(String.format("n=%3d: straus %.1f", sizes[si], best[si][0]));
      for (int wi = 0; wi < widths.length; wi++) {
        line.append(String.format(" | pippenger c=%d %.1f", widths[wi], best[si][1 + wi]));
      }
      System.out.println(line);
    }
    System.out.println("load average after: " + Files.readString(Path.of("/proc/loadavg")).trim());
  }

  private static void check(boolean holds) {
    if (!holds) {
      throw new AssertionError("the batch equation of honest signatures failed");
    }
  }

  private static Inputs inputs(List<Signer> signers, int n, Random rnd) throws Exception {
    MessageDigest sha = MessageDigest.getInstance("SHA-512");
    SecureRandom secure = new SecureRandom();
    byte[][] rs = new byte[n][];
    BigInteger[] zs = new BigInteger[n];
    PublicKey[] keys = new PublicKey[n];
    BigInteger[] coefficients = new BigInteger[n];
    BigInteger sB = BigInteger.ZERO;
    for (int i = 0; i < n; i++) {
      Signer s = signers.get(rnd.nextInt(signers.size()));
      byte[] m = new byte[32];
      rnd.nextBytes(m);
      byte[] sig = s.sign(m);
      rs[i] = java.util.Arrays.copyOf(sig, 32);
      BigInteger z = new BigInteger(128, secure);
      sha.update(sig, 0, 32);
      sha.update(s.publicKey().toBytes());
      sha.update(m);
      BigInteger k = le(sha.digest(), 0, 64).mod(Ed25519Group.L);
      sB = sB.add(z.multiply(le(sig, 32, 32)));
      zs[i] = z;
      keys[i] = s.publicKey();
      keys[i].batchTable();
      coefficients[i] = z.multiply(k).mod(Ed25519Group.L);
    }
    return new Inputs(rs, zs, keys, coefficients, sB.mod(Ed25519Group.L));
  }

  private static BigInteger le(byte[] b, int off, int len) {
    byte[] be = new byte[len];
    for (int i = 0; i < len; i++) {
      be[len - 1 - i] = b[off + i];
    }
    return new BigInteger(1, be);
  }

  private static boolean straus(Inputs in) {
    int n = in.z().length;
    Ed25519Group.Cached[][] tables = new Ed25519Group.Cached[1 + 2 * n][];
    byte[][] digits = new byte[1 + 2 * n][];
    boolean[] negate = new boolean[1 + 2 * n];
    tables[0] = Ed25519Group.BASE_TABLE;
    digits[0] = Ed25519Group.nonAdjacentForm(in.baseCoefficient());
    for (int i = 0; i < n; i++) {
      int[][] r = Ed25519Group.decode(in.rEncodings()[i]);
      tables[1 + i] = Ed25519Group.oddMultiples(r[0], r[1]);
      digits[1 + i] = Ed25519Group.nonAdjacentForm(in.z()[i]);
      negate[1 + i] = true;
      tables[1 + n + i] = in.keys()[i].batchTable();
      digits[1 + n + i] = Ed25519Group.nonAdjacentForm(in.keyCoefficient()[i]);
      negate[1 + n + i] = true;
    }
    return Ed25519Group.isNeutralTimesCofactor(tables, digits, negate, 1 + 2 * n);
  }

  /** Signed radix-2^c digits of k < 2^253: d_i in [-2^(c-1), 2^(c-1)), sum d_i 2^(ci) = k. */
  private static int[] radixDigits(BigInteger k, int c, int count) {
    int[] d = new int[count];
    int carry = 0;
    int half = 1 << (c - 1);
    for (int i = 0; i < count; i++) {
      int v = carry;
      for (int b = 0; b < c; b++) {
        if (k.testBit(i * c + b)) {
          v += 1 << b;
        }
      }
      if (v >= half) {
        d[i] = v - (1 << c);
        carry = 1;
      } else {
        d[i] = v;
        carry = 0;
      }
    }
    return d;
  }

  private static boolean pippenger(Inputs in, int c) {
    int n = in.z().length;
    int terms = 1 + 2 * n;
    int windows = (256 + c - 1) / c + 1;
    Ed25519Group.Cached[] points = new Ed25519Group.Cached[terms];
    int[][] digits = new int[terms][];
    boolean[] negate = new boolean[terms];
    points[0] = Ed25519Group.BASE_TABLE[0];
    digits[0] = radixDigits(in.baseCoefficient(), c, windows);
    for (int i = 0; i < n; i++) {
      int[][] r = Ed25519Group.decode(in.rEncodings()[i]);
      Ed25519Group.Accumulator a = new Ed25519Group.Accumulator();
      a.setAffine(r[0], r[1]);
      points[1 + i] = new Ed25519Group.Cached();
      a.toCached(points[1 + i]);
      digits[1 + i] = radixDigits(in.z()[i], c, windows);
      negate[1 + i] = true;
      points[1 + n + i] = in.keys()[i].batchTable()[0];
      digits[1 + n + i] = radixDigits(in.keyCoefficient()[i], c, windows);
      negate[1 + n + i] = true;
    }
    int bucketCount = 1 << (c - 1);
    Ed25519Group.Accumulator[] buckets = new Ed25519Group.Accumulator[bucketCount];
    boolean[] used = new boolean[bucketCount];
    for (int b = 0; b < bucketCount; b++) {
      buckets[b] = new Ed25519Group.Accumulator();
    }
    Ed25519Group.Accumulator acc = new Ed25519Group.Accumulator();
    acc.setNeutral();
    Ed25519Group.Accumulator running = new Ed25519Group.Accumulator();
    Ed25519Group.Accumulator sum = new Ed25519Group.Accumulator();
    Ed25519Group.Cached tmp = new Ed25519Group.Cached();
    for (int w = windows - 1; w >= 0; w--) {
      for (int i = 0; i < c; i++) {
        acc.doubleInPlace();
      }
      java.util.Arrays.fill(used, false);
      for (int j = 0; j < terms; j++) {
        int d = digits[j][w];
        if (d == 0) {
          continue;
        }
        int b = Math.abs(d) - 1;
        if (!used[b]) {
          buckets[b].setNeutral();
          used[b] = true;
        }
        buckets[b].add(points[j], negate[j] ^ d < 0);
      }
      running.setNeutral();
      sum.setNeutral();
      boolean any = false;
      for (int b = bucketCount - 1; b >= 0; b--) {
        if (used[b]) {
          buckets[b].toCached(tmp);
          running.add(tmp, false);
          any = true;
        }
        if (any) {
          running.toCached(tmp);
          sum.add(tmp, false);
        }
      }
      sum.toCached(tmp);
      acc.add(tmp, false);
    }
    acc.doubleInPlace();
    acc.doubleInPlace();
    acc.doubleInPlace();
    return acc.isNeutral();
  }
}
