package dev.verity.ledger;

import java.io.BufferedReader;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HexFormat;

/**
 * A ledger in its own process, for {@link CrashTest}: opens the ledger in the directory given as
 * argument, reads hex-encoded signed transactions from stdin (one per line), submits each, and
 * writes {@code OK <tx id> <height> <index>} to stdout once it is durably committed (or {@code NO
 * <tx id> <reason>}). Prints {@code READY <height>} after recovery.
 */
public final class CrashTestServer {
  private CrashTestServer() {}

  public static void main(String[] args) throws IOException {
    BufferedWriter out = new BufferedWriter(new OutputStreamWriter(System.out, StandardCharsets.US_ASCII));
    SequencerLedger.Options options = SequencerLedger.Options.defaults()
        .withMaxBlockDelay(Duration.ofMillis(2))
        .withMaxBlockTransactions(100)
        .withSnapshotEveryBlocks(7)
        .withSegmentBytes(64 * 1024);
    try (SequencerLedger ledger = SequencerLedger.open(Path.of(args[0]), CrashTest.genesis(), Fixtures.SEQUENCER, options)) {
      line(out, "READY " + ledger.latestHeader().height());
      BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.US_ASCII));
      HexFormat hex = HexFormat.of();
      for (String l; (l = in.readLine()) != null; ) {
        SignedTransaction tx = SignedTransaction.decode(hex.parseHex(l.trim()));
        ledger.submit(tx).whenComplete((c, e) -> {
          if (e == null) {
            line(out, "OK " + c.txId() + " " + c.height() + " " + c.index());
          } else {
            line(out, "NO " + tx.id() + " " + e.getMessage());
          }
        });
      }
    }
  }

  private static void line(BufferedWriter out, String s) {
    synchronized (out) {
      try {
        out.write(s);
        out.newLine();
        out.flush();
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
  }
}
