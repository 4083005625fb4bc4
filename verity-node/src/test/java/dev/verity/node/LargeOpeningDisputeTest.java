package dev.verity.node;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.verity.core.Cid;
import dev.verity.core.Hash;
import dev.verity.hub.BlobStore;
import dev.verity.ledger.Action;
import dev.verity.ledger.StateRecord;
import dev.verity.onnx.Dim;
import dev.verity.onnx.ElementType;
import dev.verity.onnx.OnnxModel;
import dev.verity.onnx.OnnxReader;
import dev.verity.onnx.OnnxWriter;
import dev.verity.protocol.ModelManifest;
import dev.verity.protocol.tensor.NamedTensors;
import dev.verity.protocol.tensor.Tensor;
import dev.verity.sdk.VerityClient;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A dispute whose step opening is too large for a transaction, between real nodes over HTTP: the
 * worker puts its opening on the sequencer's hub and the sequencer's referee rules on it. The
 * worker here cheats (one weight changed), so the ruling goes against it; what the test checks is
 * that it was the referee's recomputation that decided, not the worker's failure to answer in time.
 */
class LargeOpeningDisputeTest {

  /** x[1,64,64,8] -Relu- r -Mul(two)- y: the Mul step reads a 128 KiB activation. */
  static byte[] wideActivations() {
    return OnnxWriter.write(OnnxModel.builder().producer("verity-test", "1")
        .input("x", ElementType.FLOAT, Dim.of(1), Dim.of(64), Dim.of(64), Dim.of(8))
        .output("y", ElementType.FLOAT, Dim.of(1), Dim.of(64), Dim.of(64), Dim.of(8))
        .initializer("two", new long[] {1}, new float[] {2f})
        .node("Relu", List.of("x"), List.of("r"))
        .node("Mul", List.of("r", "two"), List.of("y"))
        .build());
  }

  @Test
  void theSequencersRefereeRulesOnAnOpeningTheWorkerPutOnItsHub(@TempDir Path dir) throws Exception {
    byte[] onnx = wideActivations();
    Map<Cid, OnnxModel> models = Map.of(BlobStore.cidOf(onnx), OnnxReader.read(onnx));
    OptimisticNetwork.Params every = new OptimisticNetwork.Params(1_000_000, 1, 10, 5_000, 400, 1_000, 100);
    try (OptimisticNetwork net = new OptimisticNetwork(dir, every, List.of(VerityNode.Conduct.HONEST), List.of("cheat"))) {
      VerityNode worker = net.addWorker("cheat",
          VerityNode.Conduct.HONEST.withWorker(Cheats.PERTURBED_WEIGHTS.worker(models)));
      ModelManifest wide = net.publishOn(worker, "wide", onnx);
      float[] x = new float[64 * 64 * 8];
      for (int i = 0; i < x.length; i++) {
        x[i] = (i % 7) - 3;
      }
      Hash job;
      try (VerityClient c = net.clientOf(worker)) {
        job = OptimisticNetwork.infer(c, wide, NamedTensors.of("x", Tensor.ofFloats(new long[] {1, 64, 64, 8}, x)));
      }
      Hash dispute = Action.Challenge.disputeId(job, net.verifiers.get(0).address());
      net.awaitUntil("the dispute decided", () -> net.ledger().view().dispute(dispute)
          .map(d -> d.phase().decided()).orElse(false));
      StateRecord.Dispute d = net.ledger().view().dispute(dispute).orElseThrow();
      assertEquals(StateRecord.Dispute.Phase.CHALLENGER_WON, d.phase(), d.verdict());
      assertEquals(1, d.step(), "the Mul step, whose input does not fit a transaction");
      // "referee: step 1: ..." comes only from a ruling on the worker's opening; a worker that could not
      // answer would have lost with "timeout: ..."
      assertTrue(d.verdict().startsWith("referee: step 1"), "ruled by the referee on the opening: " + d.verdict());
      assertEquals(StateRecord.Job.Status.INVALID, net.ledger().view().job(job).orElseThrow().status());
    }
  }
}
