package dev.verity.node.optimistic;

import dev.verity.core.Cid;
import dev.verity.core.Hash;
import dev.verity.core.crypto.Signer;
import dev.verity.exec.CanonicalExecutor;
import dev.verity.exec.Execution;
import dev.verity.hub.BlobStore;
import dev.verity.ledger.Action;
import dev.verity.ledger.Committed;
import dev.verity.ledger.GenesisConfig;
import dev.verity.ledger.LedgerView;
import dev.verity.ledger.NodeRole;
import dev.verity.ledger.SequencerLedger;
import dev.verity.ledger.StateRecord;
import dev.verity.ledger.TraceCommitment;
import dev.verity.ledger.Transaction;
import dev.verity.onnx.ModelSignatures;
import dev.verity.onnx.OnnxModel;
import dev.verity.onnx.OnnxModelInfo;
import dev.verity.onnx.OnnxReader;
import dev.verity.protocol.ModelManifest;
import dev.verity.protocol.tensor.NamedTensors;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.InstantSource;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.atomic.AtomicLong;

/**
 * An in-process optimistic network: a {@link SequencerLedger} whose referee is an {@link
 * ExecReferee} over the blobs the parties published, a clock the test moves (block times decide
 * dispute deadlines), a model registered and served by a worker, and helpers to run jobs.
 */
final class OptimisticNetwork implements AutoCloseable {
  static final Signer SEQUENCER = key(1);
  static final Signer OWNER = key(2);
  static final Signer WORKER = key(3);
  static final Signer CLIENT = key(4);
  static final Signer CHALLENGER = key(5);
  static final Signer VERIFIER = key(6);
  static final long MOVE_MILLIS = 60_000;
  static final long WORKER_STAKE = 100_000;

  final AtomicLong now = new AtomicLong(1_800_000_000_000L);
  final Map<Cid, byte[]> blobs = new ConcurrentHashMap<>();
  final AtomicLong refereeNanos = new AtomicLong();
  final java.util.concurrent.atomic.AtomicInteger refereeCalls = new java.util.concurrent.atomic.AtomicInteger();
  final ExecReferee referee;
  final SequencerLedger ledger;
  final OnnxModel model;
  final ModelManifest manifest;

  static Signer key(int n) {
    byte[] seed = new byte[32];
    seed[0] = (byte) n;
    seed[31] = 42;
    return Signer.fromSeed(seed);
  }

  OptimisticNetwork(byte[] onnx) throws Exception {
    GenesisConfig genesis = GenesisConfig.builder("verity-optimistic-test")
        .devNetwork(true)
        .genesisTime(now.get())
        .sequencer(SEQUENCER.publicKey())
        .authority(SEQUENCER.publicKey())
        .treasury(key(9).address())
        .allocate(OWNER.address(), 1_000_000)
        .allocate(WORKER.address(), 1_000_000)
        .allocate(CLIENT.address(), 1_000_000)
        .allocate(CHALLENGER.address(), 1_000_000)
        .allocate(VERIFIER.address(), 1_000_000)
        .challengeWindowBlocks(50)
        .unbondingBlocks(100)
        .optimistic(1_000_000, 1, 10, MOVE_MILLIS)
        .build();
    BlobSource source = cid -> {
      byte[] b = blobs.get(cid);
      if (b == null) {
        throw new IOException("no blob " + cid);
      }
      return b;
    };
    ExecReferee inner = new ExecReferee(source);
    this.referee = inner;
    InstantSource clock = () -> Instant.ofEpochMilli(now.get());
    this.ledger = SequencerLedger.inMemory(genesis, SEQUENCER, SequencerLedger.Options.defaults()
        .withVerifierThreads(1).withClock(clock).withReferee(new Timed(inner)));
    this.model = OnnxReader.read(onnx);
    Cid modelCid = BlobStore.cidOf(onnx);
    blobs.put(modelCid, onnx);
    OnnxModelInfo info = OnnxReader.readInfo(onnx);
    this.manifest = ModelManifest.builder().owner(OWNER.publicKey()).repository("optimistic-test").version("1.0.0")
        .opsets(ModelSignatures.opsets(info)).inputs(ModelSignatures.inputs(info))
        .outputs(ModelSignatures.outputs(info)).model(modelCid, onnx.length).sign(OWNER);
    blobs.put(manifest.cid(), manifest.encode());
    send(OWNER, new Action.RegisterModel(manifest.cid(), 1));
    send(WORKER, new Action.RegisterNode("https://worker.example", Set.of(NodeRole.WORKER), List.of(manifest.cid()), 4,
        WORKER_STAKE));
    send(VERIFIER, new Action.RegisterNode("https://verifier.example", Set.of(NodeRole.VERIFIER), List.of(), 4, 5_000));
  }

  /** Times every referee ruling, to report the referee's work. */
  private final class Timed implements dev.verity.ledger.DisputeReferee {
    private final ExecReferee inner;

    Timed(ExecReferee inner) {
      this.inner = inner;
    }

    @Override
    public int steps(Cid m) throws Unavailable {
      return inner.steps(m);
    }

    @Override
    public void verifyStep(Cid m, TraceCommitment t, int step, byte[] opening)
        throws dev.verity.core.VerificationException, Unavailable {
      long start = System.nanoTime();
      try {
        inner.verifyStep(m, t, step, opening);
      } finally {
        refereeNanos.addAndGet(System.nanoTime() - start);
        refereeCalls.incrementAndGet();
      }
    }

    @Override
    public byte[] openingBlob(Cid c) throws Unavailable {
      return inner.openingBlob(c);
    }

    @Override
    public void verifyOutputs(Cid m, TraceCommitment t, byte[] opening)
        throws dev.verity.core.VerificationException, Unavailable {
      long start = System.nanoTime();
      try {
        inner.verifyOutputs(m, t, opening);
      } finally {
        refereeNanos.addAndGet(System.nanoTime() - start);
        refereeCalls.incrementAndGet();
      }
    }
  }

  Committed send(Signer who, Action a) throws InterruptedException, ExecutionException {
    long nonce = ledger.view().account(who.address()).nonce();
    return ledger.submit(new Transaction(ledger.genesis().chainId(), who.publicKey(), nonce, 1, a).sign(who)).get();
  }

  DisputeAgent.Sender sender(Signer who) {
    return DisputeAgent.Sender.signing(ledger, who, 1);
  }

  /** Puts openings where the referee reads them, as a node puts them on the sequencer's hub. */
  DisputeAgent.OpeningStore openings() {
    return opening -> {
      Cid cid = BlobStore.cidOf(opening);
      blobs.put(cid, opening);
      return cid;
    };
  }

  /** Stores canonical tensors as a blob; returns their CID. */
  Cid publish(NamedTensors t) {
    blobs.put(t.cid(), t.canonicalBytes());
    return t.cid();
  }

  Execution run(OnnxModel m, NamedTensors inputs) {
    try (CanonicalExecutor ex = CanonicalExecutor.create(m, 1)) {
      return ex.runTraced(inputs);
    }
  }

  /**
   * A job of CLIENT served by WORKER, settled, with a trace commitment of {@code committed}
   * (steps and root), the real inputs and {@code outputs}. Returns the job id.
   */
  Hash job(NamedTensors inputs, LocalTrace committed, NamedTensors outputs) throws Exception {
    Hash job = send(CLIENT, new Action.OpenJob(manifest.cid(), Optional.of(WORKER.address()), 1, 1_000))
        .created().orElseThrow();
    send(WORKER, new Action.SettleJob(job, 1, 100, List.of()));
    TraceCommitment tc = new TraceCommitment(committed.root(), committed.size(), publish(inputs), publish(outputs));
    send(WORKER, new Action.CommitReceipts(List.of(new Action.CommitReceipts.Entry(job,
        Cid.raw(("receipt " + job).getBytes(StandardCharsets.UTF_8)), Optional.of(tc)))));
    return job;
  }

  LedgerView view() {
    return ledger.view();
  }

  StateRecord.Dispute dispute(Hash id) {
    return ledger.view().dispute(id).orElseThrow();
  }

  /**
   * Plays both agents in turn (each move committed before the next is chosen) until the dispute
   * is decided; returns the number of transactions the agents sent.
   */
  int play(DisputeAgent worker, DisputeAgent challenger) throws InterruptedException {
    int moves = 0;
    for (int guard = 0; guard < 200; guard++) {
      StateRecord.Dispute d = dispute(worker.dispute());
      if (d.phase().decided()) {
        return moves;
      }
      boolean moved = false;
      for (DisputeAgent a : List.of(worker, challenger)) {
        if (a.act(ledger.view(), now.get()).isPresent()) {
          moves++;
          moved = true;
        }
      }
      if (!moved) {
        throw new AssertionError("nobody moves in dispute " + d);
      }
    }
    throw new AssertionError("dispute did not end");
  }

  @Override
  public void close() {
    ledger.close();
  }
}
