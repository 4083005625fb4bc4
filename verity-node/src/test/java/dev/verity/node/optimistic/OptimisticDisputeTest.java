package dev.verity.node.optimistic;

import static dev.verity.node.optimistic.OptimisticNetwork.CHALLENGER;
import static dev.verity.node.optimistic.OptimisticNetwork.WORKER;
import static dev.verity.node.optimistic.OptimisticNetwork.WORKER_STAKE;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.verity.core.Cid;
import dev.verity.core.Hash;
import dev.verity.core.VerificationException;
import dev.verity.ledger.LedgerView;
import dev.verity.ledger.LightClient;
import dev.verity.ledger.ReceiptProof;
import dev.verity.ledger.StateKey;
import java.nio.charset.StandardCharsets;
import dev.verity.exec.Execution;
import dev.verity.exec.TraceStep;
import dev.verity.ledger.Action;
import dev.verity.ledger.StateRecord;
import dev.verity.ledger.StateRecord.Dispute.Phase;
import dev.verity.models.BuiltinModels;
import dev.verity.models.ExampleModel;
import dev.verity.onnx.OnnxGraph;
import dev.verity.onnx.OnnxModel;
import dev.verity.onnx.OnnxNode;
import dev.verity.onnx.OnnxTensorData;
import dev.verity.protocol.tensor.NamedTensors;
import dev.verity.protocol.tensor.Tensor;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

/**
 * End to end on an in-process {@link dev.verity.ledger.SequencerLedger} with the real canonical
 * executor and the built-in models: each party plays with a {@link DisputeAgent}; the ledger's
 * referee is an {@link ExecReferee}. An honest worker wins against any lie; each way of cheating is
 * caught at the step where it first shows, and the worker slashed.
 */
class OptimisticDisputeTest {

  private static NamedTensors sample(ExampleModel m, int i) {
    ExampleModel.Sample s = BuiltinModels.heldOut(m.name()).get(i);
    return NamedTensors.of(m.inputName(), Tensor.ofFloats(s.shape(), s.values()));
  }

  /** A trace that lies about step {@code k}'s output (and nothing else). */
  private static LocalTrace lieAt(LocalTrace t, int k) {
    List<TraceStep> steps = new ArrayList<>(t.steps());
    TraceStep s = steps.get(k);
    steps.set(k, new TraceStep(s.index(), s.node(), s.opType(), s.inputs(), Hash.of(s.output().toBytes())));
    return LocalTrace.of(steps, t::inputs);
  }

  /** The model with one element of the weight read by its last weighted node nudged. */
  private static OnnxModel perturbed(OnnxModel m, String weight) {
    List<OnnxTensorData> inits = new ArrayList<>();
    for (OnnxTensorData t : m.graph().initializers()) {
      if (t.name().equals(weight)) {
        float[] v = t.floats();
        v[0] += 0.01f;
        inits.add(OnnxTensorData.ofFloats(t.name(), t.dims(), v));
      } else {
        inits.add(t);
      }
    }
    OnnxGraph g = m.graph();
    return new OnnxModel(m.irVersion(), m.opsetImports(), m.producerName(), m.producerVersion(), m.domain(),
        m.modelVersion(), m.docString(), new OnnxGraph(g.name(), g.nodes(), inits, g.inputs(), g.outputs(),
            g.valueInfo()), m.metadata());
  }

  private static int ceilLog2(int n) {
    return n <= 1 ? 0 : 32 - Integer.numberOfLeadingZeros(n - 1);
  }

  /** Worker commits {@code workerTrace} and {@code outputs}; the challenger stands by {@code challengerTrace}. */
  private static StateRecord.Dispute dispute(OptimisticNetwork net, NamedTensors inputs, LocalTrace workerTrace,
      NamedTensors outputs, LocalTrace challengerTrace) throws Exception {
    Hash job = net.job(inputs, workerTrace, outputs);
    Hash id = net.send(CHALLENGER, DisputeAgent.challenge(job, 500, challengerTrace)).created().orElseThrow();
    DisputeAgent worker = new DisputeAgent(id, DisputeAgent.Side.WORKER, workerTrace, net.model, net.sender(WORKER));
    DisputeAgent challenger = new DisputeAgent(id, DisputeAgent.Side.CHALLENGER, challengerTrace, net.model,
        net.sender(CHALLENGER));
    if (!net.dispute(id).phase().decided()) {
      net.play(worker, challenger);
    }
    StateRecord.Dispute d = net.dispute(id);
    assertEquals(d.phase() == Phase.CHALLENGER_WON ? StateRecord.Job.Status.INVALID : StateRecord.Job.Status.SETTLED,
        net.view().job(job).orElseThrow().status());
    return d;
  }

  @Test
  void anHonestWorkerWinsAgainstALyingChallengerAtEveryStep() throws Exception {
    for (ExampleModel m : BuiltinModels.all()) {
      try (OptimisticNetwork net = new OptimisticNetwork(m.onnx())) {
        NamedTensors in = sample(m, 0);
        Execution honest = net.run(net.model, in);
        LocalTrace trace = LocalTrace.of(honest);
        int n = trace.size();
        assertEquals(net.model.graph().nodes().size(), n);
        for (int k = 0; k < n; k++) {
          StateRecord.Dispute d = dispute(net, in, trace, honest.outputs(), lieAt(trace, k));
          assertEquals(Phase.WORKER_WON, d.phase(), m.name() + " lie at step " + k + ": " + d.verdict());
          assertEquals(k, d.step());
          assertTrue(d.moves() <= 2 * ceilLog2(n) + 1, "rounds <= ceil(log2 " + n + ")");
        }
        assertEquals(WORKER_STAKE, net.view().stake(WORKER.address()).bonded(), "an honest worker is never slashed");
        // An outputs claim against honest outputs fails too.
        StateRecord.Dispute d = dispute(net, in, trace, honest.outputs(), trace);
        assertEquals(StateRecord.Dispute.Claim.OUTPUTS, d.claim());
        assertEquals(Phase.WORKER_WON, d.phase(), d.verdict());
        assertEquals(WORKER_STAKE, net.view().stake(WORKER.address()).bonded());
      }
    }
  }

  @Test
  void aWorkerLyingAboutOneStepIsCaughtAtThatStep() throws Exception {
    for (ExampleModel m : BuiltinModels.all()) {
      try (OptimisticNetwork net = new OptimisticNetwork(m.onnx())) {
        NamedTensors in = sample(m, 1);
        Execution honest = net.run(net.model, in);
        LocalTrace trace = LocalTrace.of(honest);
        int k = trace.size() / 2;
        long stake = net.view().stake(WORKER.address()).bonded();
        StateRecord.Dispute d = dispute(net, in, lieAt(trace, k), honest.outputs(), trace);
        assertEquals(Phase.CHALLENGER_WON, d.phase(), d.verdict());
        assertEquals(k, d.step());
        assertTrue(d.verdict().contains("recomputing it gives"), d.verdict());
        assertEquals(stake - stake / 2, net.view().stake(WORKER.address()).bonded());
        // A light client holding only the sequencer key can prove the result invalid.
        LightClient lc = LightClient.of(net.ledger.genesis());
        ReceiptProof receipt = net.ledger.receiptProof(Cid.raw(("receipt " + d.job()).getBytes(StandardCharsets.UTF_8)))
            .orElseThrow();
        LedgerView v = net.view();
        StateRecord.Job proven = lc.verifyJobStatus(receipt, v.header(), v.prove(StateKey.job(d.job())));
        assertEquals(StateRecord.Job.Status.INVALID, proven.status());
        VerificationException e = assertThrows(VerificationException.class,
            () -> lc.verifyJobPaid(receipt, v.header(), v.prove(StateKey.job(d.job()))));
        assertTrue(e.getMessage().contains("proven wrong"), e.getMessage());
        assertEquals(Phase.CHALLENGER_WON,
            lc.verifyDispute(v.header(), d.id(), v.prove(StateKey.dispute(d.id()))).orElseThrow().phase());
      }
    }
  }

  @Test
  void aWorkerWithAPerturbedWeightIsCaughtAtTheStepReadingIt() throws Exception {
    for (ExampleModel m : BuiltinModels.all()) {
      try (OptimisticNetwork net = new OptimisticNetwork(m.onnx())) {
        NamedTensors in = sample(m, 2);
        List<OnnxNode> nodes = net.model.graph().nodes();
        int k = -1;
        String weight = null;
        for (int i = nodes.size() - 1; i >= 0 && k < 0; i--) {
          for (String name : nodes.get(i).inputs()) {
            var init = net.model.graph().initializer(name);
            if (init.isPresent() && init.get().dims().length == 2) {
              k = i;
              weight = name;
            }
          }
        }
        LocalTrace cheat = LocalTrace.of(net.run(perturbed(net.model, weight), in));
        Execution honest = net.run(net.model, in);
        StateRecord.Dispute d = dispute(net, in, cheat, honest.outputs(), LocalTrace.of(honest));
        assertEquals(Phase.CHALLENGER_WON, d.phase(), d.verdict());
        assertEquals(k, d.step(), m.name() + ": the first step reading " + weight);
        assertTrue(d.verdict().contains("initializer") || d.verdict().contains("does not hash"), d.verdict());
      }
    }
  }

  @Test
  void aWorkerThatRanOtherInputsIsCaughtAtTheFirstStep() throws Exception {
    for (ExampleModel m : BuiltinModels.all()) {
      try (OptimisticNetwork net = new OptimisticNetwork(m.onnx())) {
        NamedTensors in = sample(m, 0);
        Execution replayed = net.run(net.model, sample(m, 3));
        Execution honest = net.run(net.model, in);
        StateRecord.Dispute d = dispute(net, in, LocalTrace.of(replayed), replayed.outputs(), LocalTrace.of(honest));
        assertEquals(Phase.CHALLENGER_WON, d.phase(), d.verdict());
        assertEquals(0, d.step());
        assertTrue(d.verdict().contains("does not hash to the committed"), d.verdict());
      }
    }
  }

  @Test
  void outputsThatDifferFromTheTraceAreCaught() throws Exception {
    for (ExampleModel m : BuiltinModels.all()) {
      try (OptimisticNetwork net = new OptimisticNetwork(m.onnx())) {
        NamedTensors in = sample(m, 4);
        Execution honest = net.run(net.model, in);
        Tensor y = honest.outputs().get(m.outputName());
        float[] flipped = y.toFloats();
        float first = flipped[0];
        flipped[0] = flipped[1];
        flipped[1] = first;
        Map<String, Tensor> out = new TreeMap<>(honest.outputs().asMap());
        out.put(m.outputName(), Tensor.ofFloats(y.shape(), flipped));
        LocalTrace trace = LocalTrace.of(honest);
        StateRecord.Dispute d = dispute(net, in, trace, NamedTensors.of(out), trace);
        assertEquals(StateRecord.Dispute.Claim.OUTPUTS, d.claim());
        assertEquals(Phase.CHALLENGER_WON, d.phase(), d.verdict());
        assertTrue(d.verdict().contains("output '" + m.outputName() + "'"), d.verdict());
      }
    }
  }

  @Test
  void theSequencerDrawsTheSampleEvenWhenIdle() throws Exception {
    ExampleModel m = BuiltinModels.all().get(0);
    try (OptimisticNetwork net = new OptimisticNetwork(m.onnx())) {
      NamedTensors in = sample(m, 0);
      Execution honest = net.run(net.model, in);
      Hash job = net.job(in, LocalTrace.of(honest), honest.outputs());
      long committedAt = net.view().height();
      java.util.concurrent.Semaphore blocks = new java.util.concurrent.Semaphore(0);
      try (var sub = net.ledger.subscribe(committedAt + 1, b -> blocks.release())) {
        for (int i = 0; i < 2; i++) {
          assertTrue(blocks.tryAcquire(30, java.util.concurrent.TimeUnit.SECONDS), "empty blocks keep coming");
        }
      }
      dev.verity.ledger.Sample s = net.view().sample(job).orElseThrow();
      assertTrue(s.sampled());
      assertEquals(List.of(OptimisticNetwork.VERIFIER.address()), s.verifiers());
      assertEquals(net.ledger.block(committedAt + 1).orElseThrow().header().hash(),
          net.view().check(job).orElseThrow().seed().orElseThrow());
      net.send(OptimisticNetwork.VERIFIER, new Action.Attest(job, honest.trace().root()));
      assertEquals(List.of(OptimisticNetwork.VERIFIER.address()), net.view().check(job).orElseThrow().attesters());
    }
  }

  @Test
  void twoAgentsFollowingTheLedgerSettleADisputeOnTheirOwn() throws Exception {
    ExampleModel m = BuiltinModels.all().get(1);
    try (OptimisticNetwork net = new OptimisticNetwork(m.onnx())) {
      NamedTensors in = sample(m, 5);
      Execution honest = net.run(net.model, in);
      LocalTrace trace = LocalTrace.of(honest);
      Hash job = net.job(in, lieAt(trace, trace.size() - 1), honest.outputs());
      Hash id = net.send(CHALLENGER, DisputeAgent.challenge(job, 500, trace)).created().orElseThrow();
      DisputeAgent worker = new DisputeAgent(id, DisputeAgent.Side.WORKER, lieAt(trace, trace.size() - 1), net.model,
          net.sender(WORKER));
      DisputeAgent challenger = new DisputeAgent(id, DisputeAgent.Side.CHALLENGER, trace, net.model,
          net.sender(CHALLENGER));
      java.time.InstantSource clock = () -> java.time.Instant.ofEpochMilli(net.now.get());
      var w = java.util.concurrent.CompletableFuture.supplyAsync(() -> play(worker, net, clock));
      var c = java.util.concurrent.CompletableFuture.supplyAsync(() -> play(challenger, net, clock));
      assertEquals(Phase.CHALLENGER_WON, w.get(60, java.util.concurrent.TimeUnit.SECONDS).phase());
      assertEquals(Phase.CHALLENGER_WON, c.get(60, java.util.concurrent.TimeUnit.SECONDS).phase());
      assertEquals(trace.size() - 1, net.dispute(id).step());
      assertEquals(net.dispute(id).moves(), worker.sent() + challenger.sent());
    }
  }

  private static StateRecord.Dispute play(DisputeAgent a, OptimisticNetwork net, java.time.InstantSource clock) {
    try {
      return a.play(net.ledger, clock, java.time.Duration.ofSeconds(50));
    } catch (InterruptedException e) {
      throw new IllegalStateException(e);
    }
  }

  @Test
  void aWrongStepCountIsRuledAtOnce() throws Exception {
    ExampleModel m = BuiltinModels.all().get(0);
    try (OptimisticNetwork net = new OptimisticNetwork(m.onnx())) {
      NamedTensors in = sample(m, 0);
      Execution honest = net.run(net.model, in);
      LocalTrace full = LocalTrace.of(honest);
      LocalTrace skipped = LocalTrace.of(full.steps().subList(0, full.size() - 1), full::inputs);
      StateRecord.Dispute d = dispute(net, in, skipped, honest.outputs(), full);
      assertEquals(Phase.CHALLENGER_WON, d.phase());
      assertEquals(0, d.moves());
      assertTrue(d.verdict().contains("the model has " + full.size() + " steps"), d.verdict());
    }
  }

  @Test
  void aPartyThatStallsLosesByTimeout() throws Exception {
    ExampleModel m = BuiltinModels.all().get(1);
    try (OptimisticNetwork net = new OptimisticNetwork(m.onnx())) {
      NamedTensors in = sample(m, 0);
      Execution honest = net.run(net.model, in);
      LocalTrace trace = LocalTrace.of(honest);
      // The worker lies and then stalls.
      Hash job = net.job(in, lieAt(trace, 2), honest.outputs());
      Hash id = net.send(CHALLENGER, DisputeAgent.challenge(job, 500, trace)).created().orElseThrow();
      DisputeAgent challenger = new DisputeAgent(id, DisputeAgent.Side.CHALLENGER, trace, net.model,
          net.sender(CHALLENGER));
      assertTrue(challenger.act(net.view(), net.now.get()).isEmpty(), "no timeout before the deadline");
      net.now.addAndGet(OptimisticNetwork.MOVE_MILLIS + 1);
      assertTrue(challenger.act(net.view(), net.now.get()).isPresent());
      assertEquals(Phase.CHALLENGER_WON, net.dispute(id).phase());
      assertEquals(StateRecord.Job.Status.INVALID, net.view().job(job).orElseThrow().status());

      // The challenger lies and then stalls after the worker's first move.
      Hash job2 = net.job(in, trace, honest.outputs());
      Hash id2 = net.send(CHALLENGER, DisputeAgent.challenge(job2, 500, lieAt(trace, 0))).created().orElseThrow();
      DisputeAgent worker = new DisputeAgent(id2, DisputeAgent.Side.WORKER, trace, net.model, net.sender(WORKER));
      assertTrue(worker.act(net.view(), net.now.get()).isPresent());
      assertTrue(worker.act(net.view(), net.now.get()).isEmpty());
      net.now.addAndGet(OptimisticNetwork.MOVE_MILLIS + 1);
      assertTrue(worker.act(net.view(), net.now.get()).isPresent());
      assertEquals(Phase.WORKER_WON, net.dispute(id2).phase());
      assertEquals(StateRecord.Job.Status.SETTLED, net.view().job(job2).orElseThrow().status());
    }
  }

  /** x[1,64,64,8] -Relu- r -Mul(2)- y: step 1 reads a 128 KiB tensor, twice what a transaction carries. */
  private static byte[] wideActivations() {
    return dev.verity.onnx.OnnxWriter.write(OnnxModel.builder().producer("verity-test", "1")
        .input("x", dev.verity.onnx.ElementType.FLOAT, dev.verity.onnx.Dim.of(1), dev.verity.onnx.Dim.of(64),
            dev.verity.onnx.Dim.of(64), dev.verity.onnx.Dim.of(8))
        .output("y", dev.verity.onnx.ElementType.FLOAT, dev.verity.onnx.Dim.of(1), dev.verity.onnx.Dim.of(64),
            dev.verity.onnx.Dim.of(64), dev.verity.onnx.Dim.of(8))
        .initializer("two", new long[] {1}, new float[] {2f})
        .node("Relu", List.of("x"), List.of("r"))
        .node("Mul", List.of("r", "two"), List.of("y"))
        .build());
  }

  @Test
  void openingsTooLargeForATransactionGoByBlobSoAnHonestWorkerStillWins() throws Exception {
    try (OptimisticNetwork net = new OptimisticNetwork(wideActivations())) {
      float[] x = new float[64 * 64 * 8];
      for (int i = 0; i < x.length; i++) {
        x[i] = (i % 7) - 3;
      }
      NamedTensors in = NamedTensors.of("x", Tensor.ofFloats(new long[] {1, 64, 64, 8}, x));
      Execution honest = net.run(net.model, in);
      LocalTrace trace = LocalTrace.of(honest);
      assertTrue(StepProof.forStep(trace, net.model, 1).length > Action.ProveStep.MAX_OPENING_BYTES,
          "the opening of step 1 does not fit a transaction");

      // Before openings could go by blob, this worker could not answer and lost on the deadline.
      for (LocalTrace lie : List.of(lieAt(trace, 1), trace)) {
        Hash job = net.job(in, trace, honest.outputs());
        Hash id = net.send(CHALLENGER, DisputeAgent.challenge(job, 500, lie)).created().orElseThrow();
        net.play(new DisputeAgent(id, DisputeAgent.Side.WORKER, trace, net.model, net.sender(WORKER), net.openings()),
            new DisputeAgent(id, DisputeAgent.Side.CHALLENGER, lie, net.model, net.sender(CHALLENGER)));
        StateRecord.Dispute d = net.dispute(id);
        assertEquals(Phase.WORKER_WON, d.phase(), d.verdict());
        assertEquals(StateRecord.Job.Status.SETTLED, net.view().job(job).orElseThrow().status());
      }
      assertEquals(WORKER_STAKE, net.view().stake(WORKER.address()).bonded(), "an honest worker is never slashed");

      // A worker that lies about the wide step still loses, by blob as inline.
      Hash job = net.job(in, lieAt(trace, 1), honest.outputs());
      Hash id = net.send(CHALLENGER, DisputeAgent.challenge(job, 500, trace)).created().orElseThrow();
      net.play(new DisputeAgent(id, DisputeAgent.Side.WORKER, lieAt(trace, 1), net.model, net.sender(WORKER),
          net.openings()), new DisputeAgent(id, DisputeAgent.Side.CHALLENGER, trace, net.model, net.sender(CHALLENGER)));
      StateRecord.Dispute d = net.dispute(id);
      assertEquals(Phase.CHALLENGER_WON, d.phase(), d.verdict());
      assertEquals(1, d.step());
      assertEquals(StateRecord.Job.Status.INVALID, net.view().job(job).orElseThrow().status());
    }
  }

  @Test
  void theRefereeReadsAnOpeningBlobOnlyIfItHashesToItsCid() throws Exception {
    byte[] opening = "an opening".getBytes(StandardCharsets.UTF_8);
    Cid cid = dev.verity.hub.BlobStore.cidOf(opening);
    assertEquals(List.of((byte) 'a'), List.of(new ExecReferee(c -> opening).openingBlob(cid)[0]));
    byte[] other = "another opening".getBytes(StandardCharsets.UTF_8);
    dev.verity.ledger.DisputeReferee.Unavailable e = assertThrows(dev.verity.ledger.DisputeReferee.Unavailable.class,
        () -> new ExecReferee(c -> other).openingBlob(cid));
    assertTrue(e.getMessage().contains("does not hash to it"), e.getMessage());
    assertThrows(dev.verity.ledger.DisputeReferee.Unavailable.class,
        () -> new ExecReferee(c -> { throw new java.io.IOException("absent"); }).openingBlob(cid));
  }
}
