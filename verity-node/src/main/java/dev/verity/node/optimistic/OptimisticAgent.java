package dev.verity.node.optimistic;

import dev.verity.core.Cid;
import dev.verity.core.Hash;
import dev.verity.core.crypto.Address;
import dev.verity.exec.Execution;
import dev.verity.ledger.Action;
import dev.verity.ledger.Block;
import dev.verity.ledger.Committed;
import dev.verity.ledger.Ledger;
import dev.verity.ledger.LedgerView;
import dev.verity.ledger.SignedTransaction;
import dev.verity.ledger.StateRecord;
import dev.verity.ledger.TraceCommitment;
import dev.verity.onnx.OnnxModel;
import dev.verity.protocol.ModelManifest;
import dev.verity.protocol.tensor.NamedTensors;
import java.io.IOException;
import java.net.URI;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A node's part in mode {@code optimistic} after the inference: follows the ledger block by block
 * and
 *
 * <ul>
 *   <li>as a <b>verifier</b> (when enabled): for every optimistic job whose sample assigns it,
 *       fetches the model (manifest and file) and the inputs from the worker by CID, checks them,
 *       recomputes canonically, and sends {@link Action.Attest} when root, step count and outputs
 *       agree, else {@link Action.Challenge} with its own root and plays the dispute as challenger;
 *   <li>as a <b>worker</b>: answers every dispute opened against its own jobs (replaying its run
 *       from the model and the inputs it kept), and sends {@link Action.Finalize} for its jobs once
 *       their challenge window has passed, which releases the check pool and makes them final.
 * </ul>
 *
 * <p>Disputes are played by {@link DisputeAgent}; timeouts of the other party are claimed by it.
 * Recomputation runs on one background thread so the ledger's delivery thread never waits. What
 * happened is counted ({@link #stats}) for operators and tests. Thread-safe.
 */
public final class OptimisticAgent implements AutoCloseable {
  private static final System.Logger LOG = System.getLogger(OptimisticAgent.class.getName());

  /** Sends one of the node's transactions (through its single sending thread, so nonces never collide). */
  public interface Transactions {
    CompletableFuture<Committed> send(Action action);
  }

  /** Runs a model (by its file's CID) canonically on inputs, with the trace; and parses it. */
  public interface Engine {
    Execution run(Cid model, NamedTensors inputs);

    OnnxModel model(Cid model);
  }

  /** Where the agent gets a model's manifest, the model file and a job's tensors. */
  public interface Content {
    /** The manifest {@code cid}, checked against it. */
    ModelManifest manifest(Cid cid, List<URI> from) throws IOException;

    /** Makes the model file {@code cid} available to the engine (fetching and checking it if needed). */
    void model(Cid cid, List<URI> from) throws IOException;

    /** The tensor set {@code cid}, checked against it. */
    NamedTensors tensors(Cid cid, List<URI> from) throws IOException;

    /**
     * Puts a step opening too large for a transaction where the ledger's referee reads it (the
     * sequencer's hub) and returns its blob CID, for {@link dev.verity.ledger.Action.ProveStepByBlob}.
     */
    Cid putOpening(byte[] opening) throws IOException;
  }

  /** How this node verifies: recomputing, or (a misbehaving verifier) agreeing without computing. */
  public enum Diligence {
    RECOMPUTES,
    ALWAYS_AGREES
  }

  /**
   * The agent's settings.
   *
   * @param verifier whether to act on samples assigned to this node
   * @param diligence how it verifies (tests play lazy verifiers)
   * @param challengeBond the bond posted with each challenge
   * @param answersDisputes whether it answers disputes against its own jobs (tests play stalling
   *     workers)
   * @param keepsJobContent whether it fetches and keeps the model and tensors of every optimistic
   *     job committed (the sequencer does, so its referee can always rule)
   */
  public record Settings(boolean verifier, Diligence diligence, long challengeBond, boolean answersDisputes,
      boolean keepsJobContent) {
    public Settings {
      if (challengeBond <= 0) {
        throw new IllegalArgumentException("the challenge bond must be positive, got " + challengeBond);
      }
    }
  }

  /** Counts of what the agent did. */
  public record Stats(long attested, long challenged, long disputesWon, long disputesLost, long finalized,
      long failures) {}

  private final Ledger ledger;
  private final Address self;
  private final Transactions tx;
  private final Engine engine;
  private final Engine ofRecord;
  private final Content content;
  private final Settings settings;
  private final ScheduledExecutorService work;
  private final Object lock = new Object();
  /** Optimistic jobs committed but not yet sampled (seed unknown), by job. */
  private final Map<Hash, Pending> pending = new LinkedHashMap<>();
  /** This node's own optimistic jobs awaiting finality, by job. */
  private final Map<Hash, Long> own = new LinkedHashMap<>();
  /** Disputes this node plays, by dispute id. */
  private final Map<Hash, DisputeAgent> playing = new HashMap<>();
  private final AtomicLong attested = new AtomicLong();
  private final AtomicLong challenged = new AtomicLong();
  private final AtomicLong won = new AtomicLong();
  private final AtomicLong lost = new AtomicLong();
  private final AtomicLong finalized = new AtomicLong();
  private final AtomicLong failures = new AtomicLong();
  private Ledger.Subscription subscription;
  private volatile boolean closed;

  private record Pending(Hash job, Address worker, TraceCommitment trace) {}

  /**
   * @param engine recomputes jobs this node verifies (the canonical executor)
   * @param ofRecord replays this node's own runs when it defends them (the engine its receipts
   *     were made with; the same unless a test plays a cheating worker)
   */
  public OptimisticAgent(Ledger ledger, Address self, Transactions tx, Engine engine, Engine ofRecord,
      Content content, Settings settings) {
    this.ledger = ledger;
    this.self = self;
    this.tx = tx;
    this.engine = engine;
    this.ofRecord = ofRecord;
    this.content = content;
    this.settings = settings;
    this.work = Executors.newSingleThreadScheduledExecutor(r -> {
      Thread t = new Thread(r, "verity-optimistic");
      t.setDaemon(true);
      return t;
    });
  }

  /**
   * Starts following the ledger. It begins two challenge windows back, so that after a restart the
   * node still defends disputes opened while it was down, verifies jobs sampled to it meanwhile and
   * finalizes its jobs (what it already did is recognised on the ledger and not done again).
   */
  public void start() {
    long back = 2 * Math.max(1, ledger.genesis().challengeWindowBlocks());
    subscription = ledger.subscribe(Math.max(1, ledger.view().height() - back + 1), this::onBlock);
    // disputes also move between blocks: a stalled party's deadline passes on the clock
    work.scheduleWithFixedDelay(this::stepAll, TICK_MILLIS, TICK_MILLIS, TimeUnit.MILLISECONDS);
  }

  /** How often disputes are looked at even when no block arrives. */
  static final long TICK_MILLIS = 100;

  public Stats stats() {
    return new Stats(attested.get(), challenged.get(), won.get(), lost.get(), finalized.get(), failures.get());
  }

  /** Disputes this node is playing now. */
  public int activeDisputes() {
    synchronized (lock) {
      return playing.size();
    }
  }

  private void onBlock(Block block) {
    if (closed) {
      return;
    }
    LedgerView view = ledger.view();
    for (SignedTransaction st : block.transactions()) {
      Action a = st.tx().action();
      Address sender = st.tx().sender().address();
      if (a instanceof Action.CommitReceipts c) {
        for (Action.CommitReceipts.Entry e : c.receipts()) {
          if (e.trace().isEmpty()) {
            continue;
          }
          synchronized (lock) {
            if (sender.equals(self)) {
              own.put(e.job(), block.header().height());
            } else if (settings.verifier()) {
              pending.put(e.job(), new Pending(e.job(), sender, e.trace().get()));
            }
          }
          if (settings.keepsJobContent() && !sender.equals(self)) {
            Pending p = new Pending(e.job(), sender, e.trace().get());
            work.execute(() -> keep(p));
          }
        }
      } else if (a instanceof Action.Challenge ch && settings.answersDisputes()) {
        Hash id = Action.Challenge.disputeId(ch.job(), sender);
        Optional<StateRecord.Dispute> d = view.dispute(id);
        if (d.isPresent() && d.get().worker().equals(self) && !d.get().phase().decided()) {
          work.execute(() -> defend(id, d.get()));
        }
      }
    }
    List<Pending> due = new ArrayList<>();
    synchronized (lock) {
      for (Iterator<Pending> it = pending.values().iterator(); it.hasNext(); ) {
        Pending p = it.next();
        Optional<StateRecord.Check> c = view.check(p.job());
        if (c.isEmpty() || c.get().sample().isPresent()) {
          it.remove();
          if (c.isPresent() && c.get().sample().get().assigned(self) && !c.get().attesters().contains(self)
              && view.dispute(Action.Challenge.disputeId(p.job(), self)).isEmpty()) {
            due.add(p);
          }
        }
      }
    }
    for (Pending p : due) {
      work.execute(() -> verify(p));
    }
    finalizeOwn(view);
    work.execute(this::stepAll);
  }

  private void stepAll() {
    List<DisputeAgent> agents;
    synchronized (lock) {
      agents = new ArrayList<>(playing.values());
    }
    for (DisputeAgent agent : agents) {
      step(agent);
    }
  }

  /** Fetches and keeps what a ruling on the job may need: manifest, model file, inputs, outputs. */
  private void keep(Pending p) {
    try {
      LedgerView view = ledger.view();
      List<URI> from = endpoints(view, p.worker());
      StateRecord.Job job = view.job(p.job()).orElseThrow();
      ModelManifest manifest = content.manifest(job.model(), from);
      content.model(manifest.model(), from);
      content.tensors(p.trace().inputs(), from);
      content.tensors(p.trace().outputs(), from);
    } catch (RuntimeException | IOException e) {
      failures.incrementAndGet();
      LOG.log(System.Logger.Level.WARNING, "could not keep the content of optimistic job " + p.job()
          + " (a dispute over it cannot be ruled on until it is here): " + e.getMessage());
    }
  }

  /** Recomputes a job sampled to this node and attests or challenges it. */
  private void verify(Pending p) {
    if (closed) {
      return;
    }
    try {
      LedgerView view = ledger.view();
      if (settings.diligence() == Diligence.ALWAYS_AGREES) {
        tx.send(new Action.Attest(p.job(), p.trace().root())).join();
        attested.incrementAndGet();
        return;
      }
      StateRecord.Job job = view.job(p.job()).orElseThrow();
      List<URI> from = endpoints(view, p.worker());
      ModelManifest manifest = content.manifest(job.model(), from);
      content.model(manifest.model(), from);
      NamedTensors inputs = content.tensors(p.trace().inputs(), from);
      Execution mine = engine.run(manifest.model(), inputs);
      boolean agrees = mine.trace().root().equals(p.trace().root()) && mine.trace().size() == p.trace().steps()
          && mine.outputs().cid().equals(p.trace().outputs());
      if (agrees) {
        tx.send(new Action.Attest(p.job(), p.trace().root())).join();
        attested.incrementAndGet();
        return;
      }
      LocalTrace local = LocalTrace.of(mine);
      tx.send(DisputeAgent.challenge(p.job(), settings.challengeBond(), local)).join();
      challenged.incrementAndGet();
      Hash id = Action.Challenge.disputeId(p.job(), self);
      LOG.log(System.Logger.Level.INFO, "challenged job " + p.job() + " of worker " + p.worker() + ": dispute " + id);
      DisputeAgent agent = new DisputeAgent(id, DisputeAgent.Side.CHALLENGER, local, engine.model(manifest.model()),
          tx::send);
      synchronized (lock) {
        playing.put(id, agent);
      }
      step(agent);
    } catch (RuntimeException | IOException e) {
      failures.incrementAndGet();
      LOG.log(System.Logger.Level.WARNING, "could not verify optimistic job " + p.job() + ": " + e.getMessage());
    }
  }

  /** Starts defending a dispute against one of this node's jobs: replays the run and plays the worker. */
  private void defend(Hash id, StateRecord.Dispute d) {
    synchronized (lock) {
      if (playing.containsKey(id)) {
        return;
      }
    }
    try {
      LedgerView view = ledger.view();
      StateRecord.Job job = view.job(d.job()).orElseThrow();
      TraceCommitment trace = view.check(d.job()).orElseThrow().trace();
      List<URI> from = endpoints(view, self);
      ModelManifest manifest = content.manifest(job.model(), from);
      content.model(manifest.model(), from);
      Execution mine = ofRecord.run(manifest.model(), content.tensors(trace.inputs(), from));
      DisputeAgent agent = new DisputeAgent(id, DisputeAgent.Side.WORKER, LocalTrace.of(mine),
          engine.model(manifest.model()), tx::send, content::putOpening);
      synchronized (lock) {
        playing.put(id, agent);
      }
      step(agent);
    } catch (RuntimeException | IOException e) {
      failures.incrementAndGet();
      LOG.log(System.Logger.Level.WARNING, "could not defend dispute " + id + ": " + e.getMessage());
    }
  }

  /** Lets a dispute agent move (or claim a timeout); forgets the dispute once decided. */
  private void step(DisputeAgent agent) {
    if (closed) {
      return;
    }
    try {
      agent.act(ledger.view(), System.currentTimeMillis());
      Optional<StateRecord.Dispute> d = ledger.view().dispute(agent.dispute());
      if (d.isPresent() && d.get().phase().decided()) {
        synchronized (lock) {
          if (playing.remove(agent.dispute()) == null) {
            return;
          }
        }
        boolean mine = d.get().worker().equals(self)
            ? d.get().phase() == StateRecord.Dispute.Phase.WORKER_WON
            : d.get().phase() == StateRecord.Dispute.Phase.CHALLENGER_WON;
        (mine ? won : lost).incrementAndGet();
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (RuntimeException e) {
      failures.incrementAndGet();
      LOG.log(System.Logger.Level.WARNING, "dispute " + agent.dispute() + ": " + e.getMessage());
    }
  }

  /** Sends Finalize for this node's jobs whose challenge window has passed. */
  private void finalizeOwn(LedgerView view) {
    List<Hash> ready = new ArrayList<>();
    long window = ledger.genesis().challengeWindowBlocks();
    synchronized (lock) {
      for (Iterator<Map.Entry<Hash, Long>> it = own.entrySet().iterator(); it.hasNext(); ) {
        Map.Entry<Hash, Long> e = it.next();
        Optional<StateRecord.Job> j = view.job(e.getKey());
        if (j.isEmpty() || j.get().status() == StateRecord.Job.Status.FINAL
            || j.get().status() == StateRecord.Job.Status.INVALID) {
          it.remove();
          continue;
        }
        long end = e.getValue() + window * (j.get().audit().isPresent() ? 2 : 1);
        Optional<StateRecord.Check> c = view.check(e.getKey());
        if (view.height() > end && c.isPresent() && c.get().openDisputes() == 0) {
          it.remove();
          ready.add(e.getKey());
        }
      }
    }
    for (Hash job : ready) {
      tx.send(new Action.Finalize(job)).whenComplete((c, err) -> {
        if (err == null) {
          finalized.incrementAndGet();
        } else {
          LOG.log(System.Logger.Level.DEBUG, "finalizing job " + job + " was refused: " + err.getMessage());
        }
      });
    }
  }

  private static List<URI> endpoints(LedgerView view, Address worker) {
    List<URI> out = new ArrayList<>();
    view.node(worker).ifPresent(n -> {
      try {
        out.add(URI.create(n.endpoint()));
      } catch (IllegalArgumentException e) {
        // an unusable endpoint is skipped
      }
    });
    return out;
  }

  @Override
  public void close() {
    closed = true;
    if (subscription != null) {
      subscription.close();
    }
    work.shutdownNow();
  }
}
