package dev.verity.node.optimistic;

import dev.verity.core.DecodingException;
import dev.verity.core.Hash;
import dev.verity.core.cbor.Cbor;
import dev.verity.core.cbor.CborValue;
import dev.verity.core.merkle.MerkleProof;
import dev.verity.exec.TraceStep;
import dev.verity.onnx.OnnxModel;
import dev.verity.onnx.OnnxNode;
import dev.verity.onnx.OnnxValueInfo;
import dev.verity.protocol.tensor.NamedTensors;
import dev.verity.protocol.tensor.Tensor;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * The opening a worker sends in {@link dev.verity.ledger.Action.ProveStep}: canonical CBOR, small
 * enough for one transaction because what the referee can read itself is left out.
 *
 * <ul>
 *   <li>Step claim: {@code {"v": 1, "kind": "step", "step": leaf map, "proof": Merkle proof,
 *       "tensors": [tensor], "producers": [{"step": leaf map, "proof": Merkle proof}]}}. {@code
 *       tensors} holds, in the node's input order, only the inputs that are neither initializers
 *       (the referee takes the model's) nor graph inputs (the referee takes the request's, under the
 *       committed inputs CID); {@code producers} holds, in the same order, the opened step that
 *       produced each of them.
 *   <li>Outputs claim: {@code {"v": 1, "kind": "outputs", "producers": [...]}}: the opened step
 *       producing each graph output that a node produces, in the graph's output order.
 * </ul>
 *
 * A leaf map is the {@link TraceStep#leaf()} map {@code {"step", "node", "op", "inputs",
 * "output"}}; a tensor is {@code {"type", "shape", "data"}} as in the canonical named tensors.
 */
public final class StepProof {
  public static final int VERSION = 1;
  /** Most tensors or producers one opening may carry. */
  public static final int MAX_ITEMS = 64;

  /** An opened step: the step and its inclusion proof under the trace root. */
  public record Opened(TraceStep step, MerkleProof proof) {}

  /** A decoded step opening. */
  public record Step(Opened opened, List<Tensor> tensors, List<Opened> producers) {}

  private StepProof() {}

  /** Opens step {@code i} of {@code trace} for the referee. */
  public static byte[] forStep(LocalTrace trace, OnnxModel model, int i) {
    OnnxNode node = model.graph().nodes().get(i);
    Set<String> graphInputs = graphInputs(model);
    List<Tensor> read = trace.inputs(i);
    List<CborValue> tensors = new ArrayList<>();
    List<CborValue> producers = new ArrayList<>();
    int k = 0;
    for (String name : node.inputs()) {
      if (name.isEmpty()) {
        continue;
      }
      if (model.graph().initializer(name).isEmpty() && !graphInputs.contains(name)) {
        int j = producer(model, name, i).orElseThrow(() -> new IllegalArgumentException(
            "input '" + name + "' of node " + i + " has no producer before it"));
        tensors.add(tensorCbor(read.get(k)));
        producers.add(opened(trace, j));
      }
      k++;
    }
    return Cbor.encode(CborValue.Map.builder()
        .put("v", VERSION)
        .put("kind", "step")
        .put("step", leafMap(trace.step(i)))
        .put("proof", trace.prove(i).toCbor())
        .put("tensors", new CborValue.Array(tensors))
        .put("producers", new CborValue.Array(producers))
        .build());
  }

  /** Opens the steps producing the model's graph outputs. */
  public static byte[] forOutputs(LocalTrace trace, OnnxModel model) {
    List<CborValue> producers = new ArrayList<>();
    for (OnnxValueInfo out : model.graph().outputs()) {
      Optional<Integer> j = producer(model, out.name(), model.graph().nodes().size());
      j.ifPresent(x -> producers.add(opened(trace, x)));
    }
    return Cbor.encode(CborValue.Map.builder()
        .put("v", VERSION)
        .put("kind", "outputs")
        .put("producers", new CborValue.Array(producers))
        .build());
  }

  /** The last node before {@code before} that writes {@code name}. */
  static Optional<Integer> producer(OnnxModel model, String name, int before) {
    List<OnnxNode> nodes = model.graph().nodes();
    for (int j = Math.min(before, nodes.size()) - 1; j >= 0; j--) {
      if (nodes.get(j).outputs().contains(name)) {
        return Optional.of(j);
      }
    }
    return Optional.empty();
  }

  static Set<String> graphInputs(OnnxModel model) {
    Set<String> names = new HashSet<>();
    for (OnnxValueInfo v : model.graph().realInputs()) {
      names.add(v.name());
    }
    return names;
  }

  private static CborValue opened(LocalTrace trace, int j) {
    return CborValue.Map.builder().put("step", leafMap(trace.step(j))).put("proof", trace.prove(j).toCbor()).build();
  }

  static CborValue.Map leafMap(TraceStep s) {
    return Cbor.decodeMap(s.leaf());
  }

  private static CborValue tensorCbor(Tensor t) {
    return NamedTensors.of("t", t).toCbor().get("t");
  }

  // ---- decoding (the referee's side) ----

  /** Decodes a step claim's opening. */
  public static Step decodeStep(byte[] bytes) {
    CborValue.Map m = header(bytes, "step");
    m.requireOnly(Set.of("v", "kind", "step", "proof", "tensors", "producers"));
    List<Tensor> tensors = new ArrayList<>();
    for (CborValue v : items(m, "tensors")) {
      tensors.add(tensor(v));
    }
    List<Opened> producers = new ArrayList<>();
    for (CborValue v : items(m, "producers")) {
      producers.add(opened(v));
    }
    return new Step(new Opened(step(m.getMap("step")), MerkleProof.fromCbor(m.getMap("proof"))), tensors, producers);
  }

  /** Decodes an outputs claim's opening. */
  public static List<Opened> decodeOutputs(byte[] bytes) {
    CborValue.Map m = header(bytes, "outputs");
    m.requireOnly(Set.of("v", "kind", "producers"));
    List<Opened> producers = new ArrayList<>();
    for (CborValue v : items(m, "producers")) {
      producers.add(opened(v));
    }
    return producers;
  }

  private static CborValue.Map header(byte[] bytes, String kind) {
    CborValue.Map m = Cbor.decodeMap(bytes);
    if (m.getLong("v") != VERSION) {
      throw new DecodingException("unsupported step opening version " + m.getLong("v"));
    }
    if (!m.getText("kind").equals(kind)) {
      throw new DecodingException("expected a '" + kind + "' opening, got '" + m.getText("kind") + "'");
    }
    return m;
  }

  private static List<CborValue> items(CborValue.Map m, String key) {
    List<CborValue> items = m.getArray(key);
    if (items.size() > MAX_ITEMS) {
      throw new DecodingException("'" + key + "' holds " + items.size() + " items, at most " + MAX_ITEMS);
    }
    return items;
  }

  private static Opened opened(CborValue v) {
    if (!(v instanceof CborValue.Map m)) {
      throw new DecodingException("an opened step must be a map");
    }
    m.requireOnly(Set.of("step", "proof"));
    return new Opened(step(m.getMap("step")), MerkleProof.fromCbor(m.getMap("proof")));
  }

  private static Tensor tensor(CborValue v) {
    return NamedTensors.fromCbor(CborValue.Map.builder().put("t", v).build()).get("t");
  }

  static TraceStep step(CborValue.Map m) {
    m.requireOnly(Set.of("step", "node", "op", "inputs", "output"));
    long index = m.getLong("step");
    if (index < 0 || index >= dev.verity.ledger.TraceCommitment.MAX_STEPS) {
      throw new DecodingException("step index " + index + " out of range");
    }
    List<CborValue> in = m.getArray("inputs");
    if (in.size() > MAX_ITEMS) {
      throw new DecodingException("a step reads at most " + MAX_ITEMS + " inputs");
    }
    List<Hash> hashes = new ArrayList<>();
    for (CborValue h : in) {
      if (!(h instanceof CborValue.Bytes b)) {
        throw new DecodingException("step input hashes must be byte strings");
      }
      hashes.add(Hash.wrap(b.value()));
    }
    return new TraceStep((int) index, m.getText("node"), m.getText("op"), hashes, Hash.wrap(m.getBytes("output")));
  }
}
