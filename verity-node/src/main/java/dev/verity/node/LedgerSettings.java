package dev.verity.node;

import dev.verity.ledger.Action;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Locale;
import java.util.Objects;
import java.util.Optional;

/**
 * How a node takes part in the ledger (the {@code ledger.*} settings of {@link NodeConfig}).
 *
 * @param mode {@link Mode#NONE}: no ledger, inference is free and receipts are only signed;
 *     {@link Mode#EMBEDDED}: this node runs the sequencer ledger under {@code <data_dir>/ledger},
 *     charges for inference through jobs and commits receipts; {@link Mode#REMOTE}: this node
 *     follows the ledger of the sequencer node at {@code url}, checking every block it reads, and
 *     charges through jobs on it
 * @param genesis the genesis file (canonical CBOR of a {@code GenesisConfig}); empty: a dev genesis
 *     the node creates on first start in {@code <data_dir>/ledger/genesis.cbor}
 * @param operatorFee what this node charges per inference on top of the model's royalty; with 0,
 *     models whose royalty is 0 run without a job
 * @param receiptBatch receipts per {@code CommitReceipts} transaction (1..512)
 * @param receiptBatchDelay longest a receipt waits for its batch to fill before it is committed
 * @param blockDelay longest a transaction waits for its block to fill
 * @param url with {@link Mode#REMOTE}: base URL of the sequencer node (the one with {@code ledger =
 *     embedded}); empty otherwise
 */
public record LedgerSettings(
    Mode mode,
    Optional<Path> genesis,
    long operatorFee,
    int receiptBatch,
    Duration receiptBatchDelay,
    Duration blockDelay,
    Optional<URI> url) {

  /** Whether and how the node runs a ledger. */
  public enum Mode {
    NONE,
    EMBEDDED,
    REMOTE;

    /** The setting's value: "none", "embedded" or "remote". */
    public String wireName() {
      return name().toLowerCase(Locale.ROOT);
    }

    static Mode fromWireName(String s) {
      for (Mode m : values()) {
        if (m.wireName().equals(s)) {
          return m;
        }
      }
      throw new IllegalArgumentException("setting 'ledger' must be none, embedded or remote, got '" + s + "'");
    }
  }

  public static final int DEFAULT_RECEIPT_BATCH = 64;
  public static final Duration DEFAULT_RECEIPT_BATCH_DELAY = Duration.ofSeconds(1);
  public static final Duration DEFAULT_BLOCK_DELAY = Duration.ofMillis(5);

  public LedgerSettings {
    Objects.requireNonNull(mode, "mode");
    Objects.requireNonNull(genesis, "genesis");
    if (operatorFee < 0) {
      throw new IllegalArgumentException("ledger.operator_fee must not be negative, got " + operatorFee);
    }
    if (receiptBatch < 1 || receiptBatch > Action.CommitReceipts.MAX_RECEIPTS) {
      throw new IllegalArgumentException("ledger.receipt_batch must be in 1.." + Action.CommitReceipts.MAX_RECEIPTS
          + ", got " + receiptBatch);
    }
    if (receiptBatchDelay.isNegative() || receiptBatchDelay.isZero()) {
      throw new IllegalArgumentException("ledger.receipt_batch_millis must be positive");
    }
    if (blockDelay.isNegative() || blockDelay.compareTo(Duration.ofSeconds(10)) > 0) {
      throw new IllegalArgumentException("ledger.block_millis must be in 0..10000");
    }
    Objects.requireNonNull(url, "url");
    if (mode == Mode.REMOTE) {
      URI u = url.orElseThrow(() -> new IllegalArgumentException(
          "ledger = remote needs ledger.url, the base URL of the sequencer node (e.g. http://10.0.0.1:8420)"));
      if (!("http".equals(u.getScheme()) || "https".equals(u.getScheme())) || u.getHost() == null) {
        throw new IllegalArgumentException("ledger.url must be an http(s) URL with a host, got '" + u + "'");
      }
    } else if (url.isPresent()) {
      throw new IllegalArgumentException("ledger.url is used only with ledger = remote (ledger is "
          + mode.wireName() + ")");
    }
  }

  /** No ledger: the default. */
  public static LedgerSettings none() {
    return new LedgerSettings(Mode.NONE, Optional.empty(), 0, DEFAULT_RECEIPT_BATCH, DEFAULT_RECEIPT_BATCH_DELAY,
        DEFAULT_BLOCK_DELAY, Optional.empty());
  }

  /** An embedded ledger started from {@code genesis} (empty: a dev genesis), other settings default. */
  public static LedgerSettings embedded(Optional<Path> genesis) {
    return new LedgerSettings(Mode.EMBEDDED, genesis, 0, DEFAULT_RECEIPT_BATCH, DEFAULT_RECEIPT_BATCH_DELAY,
        DEFAULT_BLOCK_DELAY, Optional.empty());
  }

  /**
   * The ledger of the sequencer node at {@code url}, whose chain starts with {@code genesis} (empty:
   * the genesis the sequencer serves is pinned on first start), other settings default.
   */
  public static LedgerSettings remote(URI url, Optional<Path> genesis) {
    return new LedgerSettings(Mode.REMOTE, genesis, 0, DEFAULT_RECEIPT_BATCH, DEFAULT_RECEIPT_BATCH_DELAY,
        DEFAULT_BLOCK_DELAY, Optional.of(url));
  }

  public boolean embedded() {
    return mode == Mode.EMBEDDED;
  }

  public boolean remote() {
    return mode == Mode.REMOTE;
  }

  /** Whether the node takes part in a ledger (embedded or remote). */
  public boolean enabled() {
    return mode != Mode.NONE;
  }

  public LedgerSettings withOperatorFee(long fee) {
    return new LedgerSettings(mode, genesis, fee, receiptBatch, receiptBatchDelay, blockDelay, url);
  }

  public LedgerSettings withReceiptBatch(int receipts, Duration delay) {
    return new LedgerSettings(mode, genesis, operatorFee, receipts, delay, blockDelay, url);
  }
}
