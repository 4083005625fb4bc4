package dev.verity.node.optimistic;

import dev.verity.core.Cid;
import dev.verity.core.Hash;
import dev.verity.core.crypto.Address;
import dev.verity.core.crypto.Signer;
import dev.verity.ledger.Action;
import dev.verity.ledger.Committed;
import dev.verity.ledger.Ledger;
import dev.verity.ledger.LedgerView;
import dev.verity.ledger.StateRecord;
import dev.verity.ledger.Transaction;
import dev.verity.ledger.TransactionRejected;
import dev.verity.onnx.OnnxModel;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.time.InstantSource;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;

/**
 * Plays one side of a dispute over an optimistic job from the trace this party stands by (for an
 * honest party, its own recomputation: {@link LocalTrace#of(dev.verity.exec.Execution)}). On its
 * turn it bisects its own trace tree, or, as the worker at the end of the game, opens the disputed
 * step (or the output steps) for the referee; when the other side's move is overdue it sends
 * {@link Action.Timeout}. Moves go through a {@link Sender} (the node's transaction sender).
 *
 * <p>An opening larger than a transaction allows ({@link Action.ProveStep#MAX_OPENING_BYTES}, e.g.
 * of any convolution of an image model) is first put where the referee reads it (an {@link
 * OpeningStore}: the sequencer's hub) and sent as {@link Action.ProveStepByBlob}.
 *
 * <p>{@link #nextMove} is a function of the dispute's state, the local trace and the time (storing
 * a large opening first), so a caller can drive the game itself; {@link #act} sends the next move; {@link #play} follows
 * the ledger until the dispute is decided.
 */
public final class DisputeAgent {
  private static final System.Logger LOG = System.getLogger(DisputeAgent.class.getName());

  /** Which party this agent plays. */
  public enum Side {
    WORKER,
    CHALLENGER
  }

  /** Signs and submits one action as this party; the future completes when it is committed. */
  @FunctionalInterface
  public interface Sender {
    CompletableFuture<Committed> send(Action action);

    /**
     * A sender that signs with {@code key}, taking the nonce from the ledger's latest state. Only
     * for a key that sends nothing else at the same time (tools, tests, benchmarks).
     */
    static Sender signing(Ledger ledger, Signer key, long fee) {
      return action -> {
        long nonce = ledger.view().account(key.address()).nonce();
        Transaction tx = new Transaction(ledger.genesis().chainId(), key.publicKey(), nonce, fee, action);
        return ledger.submit(tx.sign(key));
      };
    }
  }

  /** Puts an opening too large for a transaction where the referee reads it; returns its blob CID. */
  @FunctionalInterface
  public interface OpeningStore {
    Cid put(byte[] opening) throws IOException;

    /** For a party that never opens steps (a challenger), or tests whose openings all fit inline. */
    OpeningStore NONE = opening -> {
      throw new IOException("this party has nowhere to put an opening of " + opening.length + " bytes");
    };
  }

  private final Hash dispute;
  private final Side side;
  private final LocalTrace local;
  private final OnnxModel model;
  private final Sender sender;
  private final OpeningStore openings;
  private int sent;

  /**
   * @param dispute the dispute id ({@link Action.Challenge#disputeId})
   * @param side the party played
   * @param local the trace this party stands by
   * @param model the job's model (the worker needs it to open steps)
   * @param sender sends this party's transactions
   */
  public DisputeAgent(Hash dispute, Side side, LocalTrace local, OnnxModel model, Sender sender) {
    this(dispute, side, local, model, sender, OpeningStore.NONE);
  }

  /**
   * As {@link #DisputeAgent(Hash, Side, LocalTrace, OnnxModel, Sender)}, with somewhere to put
   * openings larger than {@link Action.ProveStep#MAX_OPENING_BYTES}: the worker then sends {@link
   * Action.ProveStepByBlob} naming the blob {@code openings} stored.
   */
  public DisputeAgent(Hash dispute, Side side, LocalTrace local, OnnxModel model, Sender sender,
      OpeningStore openings) {
    this.openings = Objects.requireNonNull(openings, "openings");
    this.dispute = Objects.requireNonNull(dispute, "dispute");
    this.side = Objects.requireNonNull(side, "side");
    this.local = Objects.requireNonNull(local, "local trace");
    this.model = Objects.requireNonNull(model, "model");
    this.sender = Objects.requireNonNull(sender, "sender");
  }

  /** The challenge a party sends when its trace differs from the committed one. */
  public static Action.Challenge challenge(Hash job, long bond, LocalTrace local) {
    return new Action.Challenge(job, bond, local.root(), local.size());
  }

  public Hash dispute() {
    return dispute;
  }

  /** Transactions this agent has had committed. */
  public synchronized int sent() {
    return sent;
  }

  /**
   * This party's next move given the dispute's state and the current time, or empty when it is
   * the other party's turn and not yet overdue, or the dispute is decided.
   */
  public Optional<Action> nextMove(StateRecord.Dispute d, long nowMillis) {
    if (!d.id().equals(dispute)) {
      throw new IllegalArgumentException("dispute " + d.id() + " is not " + dispute);
    }
    if (d.phase().decided()) {
      return Optional.empty();
    }
    boolean mine = switch (d.phase()) {
      case WORKER_BISECT, WORKER_PROVE -> side == Side.WORKER;
      case CHALLENGER_BISECT -> side == Side.CHALLENGER;
      default -> false;
    };
    if (!mine) {
      return nowMillis > d.deadlineMillis() ? Optional.of(new Action.Timeout(dispute)) : Optional.empty();
    }
    return Optional.of(switch (d.phase()) {
      case WORKER_BISECT, CHALLENGER_BISECT -> bisect(d);
      case WORKER_PROVE -> prove(d.claim() == StateRecord.Dispute.Claim.OUTPUTS
          ? StepProof.forOutputs(local, model) : StepProof.forStep(local, model, d.step()));
      default -> throw new IllegalStateException("no move in phase " + d.phase());
    });
  }

  /** The step proof: inline when it fits a transaction, else stored first and named by its CID. */
  private Action prove(byte[] opening) {
    if (opening.length <= Action.ProveStep.MAX_OPENING_BYTES) {
      return new Action.ProveStep(dispute, opening);
    }
    try {
      return new Action.ProveStepByBlob(dispute, openings.put(opening));
    } catch (IOException e) {
      throw new UncheckedIOException("dispute " + dispute + ": could not store the opening of " + opening.length
          + " bytes for the referee: " + e.getMessage(), e);
    }
  }

  private Action bisect(StateRecord.Dispute d) {
    if (d.to() > local.size()) {
      throw new IllegalStateException("dispute " + dispute + " is over steps " + d.from() + ".." + (d.to() - 1)
          + " but the local trace has " + local.size());
    }
    int k = Integer.highestOneBit(d.to() - d.from() - 1);
    return new Action.Bisect(dispute, local.subtree(d.from(), d.from() + k), local.subtree(d.from() + k, d.to()));
  }

  /**
   * Sends this party's next move as of {@code view} and waits for it to be committed.
   *
   * @return the committed move, or empty if there was none to make (or it was refused because the
   *     game moved on meanwhile; the refusal is logged)
   * @throws IllegalStateException if the dispute does not exist in {@code view}
   */
  public Optional<Committed> act(LedgerView view, long nowMillis) throws InterruptedException {
    StateRecord.Dispute d = view.dispute(dispute)
        .orElseThrow(() -> new IllegalStateException("no dispute " + dispute + " at block " + view.height()));
    Optional<Action> move;
    try {
      move = nextMove(d, nowMillis);
    } catch (UncheckedIOException e) {
      // the opening could not be stored for the referee: tried again at the next block, until the deadline
      LOG.log(System.Logger.Level.WARNING, e.getMessage());
      return Optional.empty();
    }
    if (move.isEmpty()) {
      return Optional.empty();
    }
    try {
      Committed c = sender.send(move.get()).get();
      synchronized (this) {
        sent++;
      }
      return Optional.of(c);
    } catch (ExecutionException | CompletionException e) {
      Throwable cause = e.getCause() != null ? e.getCause() : e;
      if (cause instanceof TransactionRejected r) {
        LOG.log(System.Logger.Level.WARNING, "dispute " + dispute + ": " + move.get().type() + " refused: "
            + r.getMessage());
        return Optional.empty();
      }
      throw new IllegalStateException("dispute " + dispute + ": sending " + move.get().type() + " failed", cause);
    }
  }

  /**
   * Follows the ledger and moves whenever it is this party's turn, or the other party is overdue,
   * until the dispute is decided or {@code limit} has passed.
   *
   * @return the dispute as last seen
   */
  public StateRecord.Dispute play(Ledger ledger, InstantSource clock, Duration limit) throws InterruptedException {
    long end = System.nanoTime() + limit.toNanos();
    Semaphore blocks = new Semaphore(0);
    try (Ledger.Subscription sub = ledger.subscribe(ledger.view().height() + 1, b -> blocks.release())) {
      while (true) {
        LedgerView view = ledger.view();
        StateRecord.Dispute d = view.dispute(dispute)
            .orElseThrow(() -> new IllegalStateException("no dispute " + dispute));
        if (d.phase().decided() || System.nanoTime() - end > 0) {
          return d;
        }
        if (act(view, clock.millis()).isPresent()) {
          continue;
        }
        long untilDeadline = Math.max(1, d.deadlineMillis() + 1 - clock.millis());
        long untilEnd = Math.max(1, TimeUnit.NANOSECONDS.toMillis(end - System.nanoTime()));
        blocks.tryAcquire(Math.min(untilDeadline, untilEnd), TimeUnit.MILLISECONDS);
        blocks.drainPermits();
      }
    }
  }

  /** The party this agent plays, as an address (for logs). */
  public static Address party(StateRecord.Dispute d, Side side) {
    return side == Side.WORKER ? d.worker() : d.challenger();
  }
}
