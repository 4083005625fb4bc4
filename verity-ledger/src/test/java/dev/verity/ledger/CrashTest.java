package dev.verity.ledger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.verity.core.Hash;
import dev.verity.core.crypto.Signer;
import java.io.BufferedReader;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Kills a ledger process with SIGKILL under load, several times, and checks that every transaction
 * it acknowledged survives and that the recovered log replays from genesis to the recovered root.
 */
class CrashTest {
  private static final int ROUNDS = 4;
  private static final int ACCOUNTS_PER_ROUND = 6;
  private static final int TXS_PER_ACCOUNT = 100;
  private static final Signer[] ACCOUNTS =
      IntStream.range(0, ROUNDS * ACCOUNTS_PER_ROUND).mapToObj(i -> Fixtures.key(100 + i)).toArray(Signer[]::new);

  static Signer account(int i) {
    return ACCOUNTS[i];
  }

  static GenesisConfig genesis() {
    GenesisConfig.Builder b = Fixtures.genesisBuilder();
    for (int i = 0; i < ROUNDS * ACCOUNTS_PER_ROUND; i++) {
      b.allocate(account(i).address(), 1_000_000);
    }
    return b.build();
  }

  /** A transaction acknowledged as committed. */
  record Ack(Hash txId, long height, int index) {}

  @TempDir Path dir;
  @TempDir Path logs;

  @Test
  void everyAcknowledgedTransactionSurvivesRepeatedKills() throws Exception {
    long seed = new Random().nextLong();
    Random random = new Random(seed);
    GenesisConfig genesis = genesis();
    Map<Hash, Ack> acked = new ConcurrentHashMap<>();
    for (int round = 0; round < ROUNDS; round++) {
      List<SignedTransaction> load = load(round);
      int killAfter = 1 + random.nextInt(load.size() - 1);
      runAndKill(load, killAfter, acked, "seed " + seed + ", round " + round);
      checkRecovered(genesis, acked, "seed " + seed + ", round " + round);
    }
    assertTrue(acked.size() >= ROUNDS, "too few acknowledgements to mean anything: " + acked.size());
  }

  /** Transfers among the round's accounts, each account's in nonce order, interleaved. */
  private static List<SignedTransaction> load(int round) {
    int first = round * ACCOUNTS_PER_ROUND;
    return IntStream.range(0, ACCOUNTS_PER_ROUND * TXS_PER_ACCOUNT).parallel().mapToObj(i -> {
      int a = first + i % ACCOUNTS_PER_ROUND;
      int nonce = i / ACCOUNTS_PER_ROUND;
      Signer s = account(a);
      return new Transaction(Fixtures.CHAIN, s.publicKey(), nonce, 1,
          new Action.Transfer(account(first + (i + 1) % ACCOUNTS_PER_ROUND).address(), 1 + nonce)).sign(s);
    }).toList();
  }

  private void runAndKill(List<SignedTransaction> load, int killAfter, Map<Hash, Ack> acked, String context)
      throws Exception {
    Path javaBin = Path.of(System.getProperty("java.home"), "bin", "java");
    ProcessBuilder pb = new ProcessBuilder(javaBin.toString(), "-Xmx256m", "-cp", System.getProperty("java.class.path"),
        CrashTestServer.class.getName(), dir.toString());
    pb.redirectError(logs.resolve("server.log").toFile());
    Process p = pb.start();
    CountDownLatch ready = new CountDownLatch(1);
    CountDownLatch enough = new CountDownLatch(1);
    AtomicInteger count = new AtomicInteger();
    List<String> refused = java.util.Collections.synchronizedList(new ArrayList<>());
    Thread reader = Thread.ofPlatform().start(() -> {
      try (BufferedReader in = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.US_ASCII))) {
        for (String l; (l = in.readLine()) != null; ) {
          String[] f = l.split(" ", 4);
          switch (f[0]) {
            case "READY" -> ready.countDown();
            case "OK" -> {
              acked.put(Hash.fromHex(f[1]), new Ack(Hash.fromHex(f[1]), Long.parseLong(f[2]), Integer.parseInt(f[3])));
              if (count.incrementAndGet() >= killAfter) {
                enough.countDown();
              }
            }
            default -> refused.add(l);
          }
        }
      } catch (IOException e) {
        // the process died mid-line: everything before was read
      }
    });
    try {
      if (!ready.await(60, TimeUnit.SECONDS)) {
        fail("ledger process did not start (" + context + "): " + serverLog());
      }
      Thread writer = Thread.ofPlatform().start(() -> {
        HexFormat hex = HexFormat.of();
        try (BufferedWriter out = new BufferedWriter(new OutputStreamWriter(p.getOutputStream(), StandardCharsets.US_ASCII))) {
          for (SignedTransaction tx : load) {
            out.write(hex.formatHex(tx.encode()));
            out.newLine();
          }
        } catch (IOException e) {
          // killed while we were writing
        }
      });
      if (!enough.await(60, TimeUnit.SECONDS)) {
        fail("ledger process acknowledged only " + count.get() + " of " + killAfter + " (" + context + ")");
      }
      p.destroyForcibly();
      p.waitFor(60, TimeUnit.SECONDS);
      writer.join();
      reader.join();
    } finally {
      p.destroyForcibly();
    }
    assertEquals(List.of(), refused, "the ledger refused transactions of a valid load (" + context + ")");
  }

  private String serverLog() {
    try {
      return java.nio.file.Files.readString(logs.resolve("server.log"));
    } catch (IOException e) {
      return "no log: " + e;
    }
  }

  private void checkRecovered(GenesisConfig genesis, Map<Hash, Ack> acked, String context) throws Exception {
    try (SequencerLedger ledger = SequencerLedger.open(dir, genesis, Fixtures.SEQUENCER, SequencerLedger.Options.defaults())) {
      List<Block> chain = new ArrayList<>();
      for (long h = 0; h <= ledger.latestHeader().height(); h++) {
        chain.add(ledger.block(h).orElseThrow());
      }
      for (Ack a : acked.values()) {
        assertTrue(a.height() < chain.size(), "acknowledged block " + a.height() + " is gone (" + context + ")");
        assertEquals(a.txId(), chain.get((int) a.height()).transactions().get(a.index()).id(),
            "acknowledged transaction lost (" + context + ")");
      }
      assertEquals(ledger.latestHeader().stateRoot(), Chain.replay(genesis, chain).root(),
          "replaying the recovered log from genesis gives another root (" + context + ")");
    }
  }
}
