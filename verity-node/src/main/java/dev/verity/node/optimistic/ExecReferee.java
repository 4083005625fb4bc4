package dev.verity.node.optimistic;

import dev.verity.core.Cid;
import dev.verity.core.Hash;
import dev.verity.core.VerificationException;
import dev.verity.exec.StepOpening;
import dev.verity.exec.Trace;
import dev.verity.exec.TraceStep;
import dev.verity.hub.BlobStore;
import dev.verity.ledger.DisputeReferee;
import dev.verity.ledger.TraceCommitment;
import dev.verity.onnx.OnnxModel;
import dev.verity.onnx.OnnxNode;
import dev.verity.onnx.OnnxReader;
import dev.verity.onnx.OnnxValueInfo;
import dev.verity.core.merkle.MerkleTree;
import dev.verity.protocol.ModelManifest;
import dev.verity.protocol.tensor.NamedTensors;
import dev.verity.protocol.tensor.Tensor;
import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;

/**
 * The ledger's dispute referee on the canonical executor: recomputes the one operator a dispute
 * narrows down to ({@link Trace#verifyStep}) and checks everything that ties the opened step to the
 * job.
 *
 * <p><b>Pure function of content-addressed data.</b> It reads the model's manifest (by the job's
 * manifest CID), the ONNX file the manifest names, and the job's inputs and outputs (by the CIDs in
 * the worker's {@link TraceCommitment}) from a {@link BlobSource}, and re-hashes every blob against
 * its CID before using it; a missing or mismatching blob is {@link DisputeReferee.Unavailable}, never
 * a verdict. No clock, randomness or machine-dependent arithmetic enters: the canonical executor's
 * results are bit-identical everywhere. The sequencer node holds these blobs in its hub (models are
 * published there; workers keep each optimistic request's inputs and outputs as blobs).
 *
 * <p>Work per ruling: one operator recomputed on one thread, plus hashing its opened (non-weight)
 * inputs and output and O(log n) hashes per Merkle proof; weights come from the model, whose
 * initializer hashes are computed once when it is loaded ({@link Trace#index}). Prepared models are
 * cached (the last {@value #CACHED_MODELS}). Thread-safe.
 */
public final class ExecReferee implements DisputeReferee {
  static final int CACHED_MODELS = 8;

  private final BlobSource blobs;
  private final Map<Cid, Trace.ModelIndex> models = new LinkedHashMap<>(16, 0.75f, true) {
    @Override
    protected boolean removeEldestEntry(Map.Entry<Cid, Trace.ModelIndex> eldest) {
      return size() > CACHED_MODELS;
    }
  };

  public ExecReferee(BlobSource blobs) {
    this.blobs = Objects.requireNonNull(blobs, "blobs");
  }

  @Override
  public int steps(Cid model) throws Unavailable {
    return model(model).graph().nodes().size();
  }

  /** The parsed model a manifest names, read and checked against both CIDs. */
  public OnnxModel model(Cid manifestCid) throws Unavailable {
    return index(manifestCid).model();
  }

  /** The model prepared for step checks (initializers hashed once), cached. */
  private Trace.ModelIndex index(Cid manifestCid) throws Unavailable {
    synchronized (models) {
      Trace.ModelIndex m = models.get(manifestCid);
      if (m != null) {
        return m;
      }
    }
    byte[] manifestBytes = read(manifestCid, "model manifest");
    if (!Cid.dagCbor(manifestBytes).equals(manifestCid)) {
      throw new Unavailable("the blob served for manifest " + manifestCid + " does not hash to it");
    }
    ModelManifest manifest;
    try {
      manifest = ModelManifest.decode(manifestBytes);
    } catch (RuntimeException e) {
      throw new Unavailable("manifest " + manifestCid + " does not decode: " + e.getMessage(), e);
    }
    byte[] onnx = read(manifest.model(), "ONNX model");
    if (!BlobStore.cidOf(onnx).equals(manifest.model())) {
      throw new Unavailable("the blob served for model " + manifest.model() + " does not hash to it");
    }
    Trace.ModelIndex parsed;
    try {
      parsed = Trace.index(OnnxReader.read(onnx));
    } catch (RuntimeException e) {
      throw new Unavailable("model " + manifest.model() + " cannot be used by the referee: " + e.getMessage(), e);
    }
    synchronized (models) {
      models.put(manifestCid, parsed);
    }
    return parsed;
  }

  @Override
  public byte[] openingBlob(Cid cid) throws Unavailable {
    byte[] bytes = read(cid, "step opening");
    if (bytes.length > MAX_OPENING_BLOB_BYTES) {
      throw new Unavailable("the step opening " + cid + " has " + bytes.length + " bytes, more than the "
          + MAX_OPENING_BLOB_BYTES + " a referee reads");
    }
    if (!BlobStore.cidOf(bytes).equals(cid)) {
      throw new Unavailable("the blob served for the step opening " + cid + " does not hash to it");
    }
    return bytes;
  }

  private byte[] read(Cid cid, String what) throws Unavailable {
    try {
      return blobs.read(cid);
    } catch (IOException | RuntimeException e) {
      throw new Unavailable("the referee cannot read the " + what + " " + cid + ": " + e.getMessage(), e);
    }
  }

  private NamedTensors tensors(Cid cid, String what) throws Unavailable {
    byte[] bytes = read(cid, what);
    if (!Cid.dagCbor(bytes).equals(cid)) {
      throw new Unavailable("the blob served for the " + what + " " + cid + " does not hash to it");
    }
    try {
      return NamedTensors.fromCanonicalBytes(bytes);
    } catch (RuntimeException e) {
      throw new Unavailable("the " + what + " " + cid + " do not decode: " + e.getMessage(), e);
    }
  }

  @Override
  public void verifyStep(Cid modelCid, TraceCommitment trace, int i, byte[] opening)
      throws VerificationException, Unavailable {
    Trace.ModelIndex index = index(modelCid);
    OnnxModel model = index.model();
    List<OnnxNode> nodes = model.graph().nodes();
    if (trace.steps() != nodes.size()) {
      throw new VerificationException("the worker committed " + trace.steps() + " steps; the model has "
          + nodes.size() + " nodes");
    }
    if (i < 0 || i >= nodes.size()) {
      throw new VerificationException("step " + i + " is outside the model's " + nodes.size() + " nodes");
    }
    StepProof.Step proof;
    try {
      proof = StepProof.decodeStep(opening);
    } catch (RuntimeException e) {
      throw new VerificationException("the worker's opening of step " + i + " is malformed: " + e.getMessage(), e);
    }
    TraceStep step = proof.opened().step();
    if (step.index() != i) {
      throw new VerificationException("the opening is of step " + step.index() + ", the dispute is at step " + i);
    }
    OnnxNode node = nodes.get(i);
    Set<String> graphInputs = StepProof.graphInputs(model);
    List<String> names = node.inputs().stream().filter(s -> !s.isEmpty()).toList();
    if (step.inputs().size() != names.size()) {
      throw new VerificationException("step " + i + " (" + node.opType() + ") reads " + names.size()
          + " inputs but commits " + step.inputs().size() + " hashes");
    }
    NamedTensors request = null;
    List<Tensor> full = new ArrayList<>(names.size());
    int t = 0;
    for (int k = 0; k < names.size(); k++) {
      String name = names.get(k);
      if (index.initializerHash(name).isPresent()) {
        continue; // taken from the model by the check itself
      } else if (graphInputs.contains(name)) {
        if (request == null) {
          request = tensors(trace.inputs(), "request inputs");
        }
        if (!request.names().contains(name)) {
          throw new VerificationException("the request inputs " + trace.inputs() + " have no tensor '" + name + "'");
        }
        full.add(request.get(name));
      } else {
        if (t >= proof.tensors().size() || t >= proof.producers().size()) {
          throw new VerificationException("the opening lacks the tensor or producing step of input '" + name + "'");
        }
        int j = StepProof.producer(model, name, i).orElseThrow(() -> new VerificationException(
            "input '" + name + "' of step " + i + " is produced by no earlier node"));
        StepProof.Opened p = proof.producers().get(t);
        checkOpened(model, trace, p, j);
        if (!p.step().output().equals(step.inputs().get(k))) {
          throw new VerificationException("step " + i + " commits input '" + name + "' as " + step.inputs().get(k)
              + " but step " + j + " committed its output as " + p.step().output());
        }
        full.add(proof.tensors().get(t));
        t++;
      }
    }
    if (t != proof.tensors().size() || t != proof.producers().size()) {
      throw new VerificationException("the opening carries more tensors or producers than step " + i + " reads");
    }
    Trace.verifyStep(index, trace.root(), new StepOpening(step, proof.opened().proof(), full));
  }

  /** Checks that {@code p} is leaf {@code j} under the trace root and names node {@code j}. */
  private static void checkOpened(OnnxModel model, TraceCommitment trace, StepProof.Opened p, int j)
      throws VerificationException {
    if (p.step().index() != j || p.proof().index() != j) {
      throw new VerificationException("expected an opening of step " + j + ", got step " + p.step().index()
          + " with a proof for leaf " + p.proof().index());
    }
    MerkleTree.verifyInclusion(trace.root(), trace.steps(), p.step().leaf(), p.proof());
    OnnxNode node = model.graph().nodes().get(j);
    if (!node.name().equals(p.step().node()) || !node.opType().equals(p.step().opType())) {
      throw new VerificationException("step " + j + " claims node '" + p.step().node() + "' ("
          + p.step().opType() + ") but the model has '" + node.name() + "' (" + node.opType() + ")");
    }
  }

  @Override
  public void verifyOutputs(Cid modelCid, TraceCommitment trace, byte[] opening)
      throws VerificationException, Unavailable {
    Trace.ModelIndex index = index(modelCid);
    OnnxModel model = index.model();
    int n = model.graph().nodes().size();
    if (trace.steps() != n) {
      throw new VerificationException("the worker committed " + trace.steps() + " steps; the model has " + n + " nodes");
    }
    List<StepProof.Opened> opened;
    try {
      opened = StepProof.decodeOutputs(opening);
    } catch (RuntimeException e) {
      throw new VerificationException("the worker's opening of the output steps is malformed: " + e.getMessage(), e);
    }
    NamedTensors outputs = tensors(trace.outputs(), "outputs");
    List<OnnxValueInfo> declared = model.graph().outputs();
    if (outputs.size() != declared.size()) {
      throw new VerificationException("the outputs " + trace.outputs() + " hold " + outputs.size()
          + " tensors; the model declares " + declared.size());
    }
    NamedTensors request = null;
    int o = 0;
    for (OnnxValueInfo out : declared) {
      if (!outputs.names().contains(out.name())) {
        throw new VerificationException("the outputs " + trace.outputs() + " have no tensor '" + out.name() + "'");
      }
      Hash returned = hashOf(outputs.get(out.name()), "output '" + out.name() + "'");
      Optional<Integer> j = StepProof.producer(model, out.name(), n);
      Hash traced;
      if (j.isPresent()) {
        if (o >= opened.size()) {
          throw new VerificationException("the opening lacks the step producing output '" + out.name() + "'");
        }
        StepProof.Opened p = opened.get(o++);
        checkOpened(model, trace, p, j.get());
        traced = p.step().output();
      } else if (index.initializerHash(out.name()).isPresent()) {
        traced = index.initializerHash(out.name()).get();
      } else {
        if (request == null) {
          request = tensors(trace.inputs(), "request inputs");
        }
        if (!request.names().contains(out.name())) {
          throw new VerificationException("output '" + out.name() + "' is a graph input the request lacks");
        }
        traced = hashOf(request.get(out.name()), "input '" + out.name() + "'");
      }
      if (!traced.equals(returned)) {
        throw new VerificationException("output '" + out.name() + "' returned under " + trace.outputs()
            + " hashes to " + returned + " but the trace commits " + traced);
      }
    }
    if (o != opened.size()) {
      throw new VerificationException("the opening carries " + opened.size() + " steps; the outputs need " + o);
    }
  }

  private static Hash hashOf(Tensor t, String what) throws VerificationException {
    try {
      return TraceStep.tensorHash(t);
    } catch (RuntimeException e) {
      throw new VerificationException(what + " cannot be hashed: " + e.getMessage(), e);
    }
  }
}
