package dev.verity.exec;

import dev.verity.onnx.OnnxModel;
import dev.verity.onnx.OnnxNode;
import dev.verity.onnx.OnnxTensorData;
import dev.verity.onnx.OnnxValueInfo;
import dev.verity.protocol.tensor.NamedTensors;
import dev.verity.protocol.tensor.Tensor;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.SortedSet;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * The canonical executor: runs an ONNX model so that every honest node, on any machine, JVM and
 * thread count, computes the same output bits. These bits are what a worker commits to in the
 * optimistic mode (docs/EXECUTOR.md): the result of a request is defined as this executor's
 * outputs, not ONNX Runtime's.
 *
 * <p>Determinism rests on: float32 values throughout (int64 for shapes and indices); every sum in
 * a fixed left-to-right order, dot products as chains of {@link Math#fma(float, float, float)};
 * exp and tanh through {@link StrictMath} (fdlibm, the same bits on every JVM); Java's strict IEEE
 * 754 arithmetic; threads split only independent outputs, never a reduction.
 *
 * <p>Instances are immutable apart from a cache of transposed constant matrices, safe to use from
 * several threads, and hold a thread pool when created with more than one thread: close them.
 */
public final class CanonicalExecutor implements AutoCloseable {
  /** The operators the canonical executor runs (standard ONNX domain). */
  public static final SortedSet<String> SUPPORTED_OPERATORS = Collections.unmodifiableSortedSet(
      new TreeSet<>(List.of("Gemm", "MatMul", "Conv", "Relu", "LeakyRelu", "Sigmoid", "Tanh",
          "Softmax", "Add", "Sub", "Mul", "Div", "Reshape", "Flatten", "Transpose", "Concat",
          "MaxPool", "AveragePool", "GlobalAveragePool", "BatchNormalization", "Gather",
          "Unsqueeze", "Squeeze", "Clip")));

  private final OnnxModel model;
  private final long opset;
  private final Map<String, Value> initializers;
  private final Workers workers;
  private final Map<Value, float[][]> rows = Collections.synchronizedMap(new IdentityHashMap<>());
  private final Map<Value, float[][]> transposedRows =
      Collections.synchronizedMap(new IdentityHashMap<>());
  private final Map<Value, dev.verity.core.Hash> initializerHashes =
      Collections.synchronizedMap(new IdentityHashMap<>());
  private final java.util.Set<Value> constants =
      Collections.newSetFromMap(new IdentityHashMap<>());

  private CanonicalExecutor(OnnxModel model, int threads) {
    checkSupported(model);
    this.model = model;
    this.opset = opsetOf(model);
    Map<String, Value> init = new HashMap<>();
    for (OnnxTensorData t : model.graph().initializers()) {
      init.put(t.name(), valueOf(t));
    }
    this.initializers = init;
    this.constants.addAll(init.values());
    Map<String, Boolean> defined = new HashMap<>();
    for (OnnxValueInfo i : model.graph().inputs()) {
      defined.put(i.name(), true);
    }
    init.keySet().forEach(n -> defined.put(n, true));
    for (OnnxNode n : model.graph().nodes()) {
      for (String in : n.inputs()) {
        if (!in.isEmpty() && !defined.containsKey(in)) {
          throw new ExecutionException("node '" + n.name() + "' (" + n.opType() + ") reads '" + in
              + "' before any node defines it; the graph must be in topological order");
        }
      }
      if (n.outputs().isEmpty() || n.outputs().get(0).isEmpty()) {
        throw new ExecutionException("node '" + n.name() + "' (" + n.opType() + ") has no output");
      }
      defined.put(n.outputs().get(0), true);
    }
    for (OnnxValueInfo o : model.outputs()) {
      if (!defined.containsKey(o.name())) {
        throw new ExecutionException("graph output '" + o.name() + "' is never computed");
      }
    }
    this.workers = new Workers(threads);
  }

  /** An executor using the calling thread only. */
  public static CanonicalExecutor create(OnnxModel model) {
    return create(model, 1);
  }

  /**
   * An executor that may split independent outputs over {@code threads} threads; the results do
   * not depend on {@code threads}.
   *
   * @throws UnsupportedOperatorException if the model uses an operator outside the set
   * @throws ExecutionException if the graph is malformed or an initializer is not float32/int64
   */
  public static CanonicalExecutor create(OnnxModel model, int threads) {
    return new CanonicalExecutor(Objects.requireNonNull(model, "model"), threads);
  }

  /**
   * Checks at publish time that the canonical executor can run the model: every node is a
   * standard-domain operator of {@link #SUPPORTED_OPERATORS}.
   *
   * @throws UnsupportedOperatorException naming every operator outside the set
   */
  public static void checkSupported(OnnxModel model) {
    TreeSet<String> bad = new TreeSet<>();
    for (OnnxNode n : model.graph().nodes()) {
      if (!n.isStandardDomain() || !SUPPORTED_OPERATORS.contains(n.opType())) {
        bad.add(n.qualifiedOpType());
      }
    }
    if (!bad.isEmpty()) {
      throw new UnsupportedOperatorException(new ArrayList<>(bad));
    }
  }

  public OnnxModel model() {
    return model;
  }

  /**
   * Runs the model. {@code inputs} must hold every graph input that is not an initializer, as
   * float32 or int64 (int32 is widened) with the declared rank and fixed dimensions.
   *
   * @return the graph outputs, by name
   * @throws ExecutionException naming the missing input or the node that cannot run
   */
  public NamedTensors run(NamedTensors inputs) {
    return execute(inputs, false, null).outputs();
  }

  /** Runs the model and records its trace (hashes every intermediate tensor). */
  public Execution runTraced(NamedTensors inputs) {
    return execute(inputs, true, null);
  }

  /** Replaces a step's output; lets tests play a worker that lies about one step. */
  interface StepTamper {
    Value apply(int step, Value honest);
  }

  Execution execute(NamedTensors inputs, boolean traced, StepTamper tamper) {
    Map<String, Value> values = new HashMap<>(initializers);
    for (OnnxValueInfo info : model.realInputs()) {
      Tensor t = inputs.asMap().get(info.name());
      if (t == null) {
        throw new ExecutionException("input '" + info.name() + "' is missing; the model needs "
            + model.realInputs().stream().map(OnnxValueInfo::name).toList());
      }
      Value v = Value.fromTensor(t, "input '" + info.name() + "'");
      checkDeclared(info, v);
      values.put(info.name(), v);
    }
    List<OnnxNode> nodes = model.graph().nodes();
    List<TraceStep> steps = traced ? new ArrayList<>(nodes.size()) : null;
    List<Value[]> stepInputs = traced ? new ArrayList<>(nodes.size()) : null;
    Map<String, dev.verity.core.Hash> hashes = traced ? new HashMap<>() : null;
    for (int s = 0; s < nodes.size(); s++) {
      OnnxNode node = nodes.get(s);
      Value[] in = new Value[node.inputs().size()];
      for (int i = 0; i < in.length; i++) {
        String name = node.inputs().get(i);
        in[i] = name.isEmpty() ? null : values.get(name);
      }
      Value out = Operators.apply(node, in, opset, workers, this::rowsOf);
      if (tamper != null) {
        out = tamper.apply(s, out);
      }
      values.put(node.outputs().get(0), out);
      if (traced) {
        List<dev.verity.core.Hash> ih = new ArrayList<>();
        for (int i = 0; i < in.length; i++) {
          if (in[i] != null) {
            Value v = in[i];
            ih.add(hashes.computeIfAbsent(node.inputs().get(i), k -> constants.contains(v)
                ? initializerHashes.computeIfAbsent(v, Value::hash) : v.hash()));
          }
        }
        dev.verity.core.Hash oh = out.hash();
        hashes.put(node.outputs().get(0), oh);
        steps.add(new TraceStep(s, node.name(), node.opType(), ih, oh));
        stepInputs.add(in);
      }
    }
    Map<String, Tensor> outs = new TreeMap<>();
    for (OnnxValueInfo o : model.outputs()) {
      outs.put(o.name(), values.get(o.name()).toTensor());
    }
    NamedTensors result = NamedTensors.of(outs);
    return new Execution(result, traced ? new Trace(steps, stepInputs) : emptyTrace());
  }

  private static Trace emptyTrace() {
    return new Trace(List.of(), List.of());
  }

  private float[][] rowsOf(Value m, boolean transposed) {
    if (constants.contains(m)) {
      return (transposed ? transposedRows : rows).computeIfAbsent(m,
          k -> Operators.TransposeCache.compute(k, transposed));
    }
    return Operators.TransposeCache.compute(m, transposed);
  }

  private static void checkDeclared(OnnxValueInfo info, Value v) {
    List<dev.verity.onnx.Dim> dims = info.dims();
    if (!info.rankKnown()) {
      return;
    }
    boolean ok = dims.size() == v.rank();
    for (int i = 0; ok && i < dims.size(); i++) {
      if (dims.get(i) instanceof dev.verity.onnx.Dim.Fixed f && f.size() != v.shape[i]) {
        ok = false;
      }
    }
    if (!ok) {
      throw new ExecutionException("input '" + info.name() + "' has shape "
          + Arrays.toString(v.shape) + " but the model declares " + dims);
    }
  }

  static long opsetOf(OnnxModel model) {
    Long v = model.opsetImports().get("");
    if (v == null) {
      v = model.opsetImports().get("ai.onnx");
    }
    return v == null ? OnnxModel.DEFAULT_OPSET : v;
  }

  static Value valueOf(OnnxTensorData t) {
    long[] d = t.dims();
    int[] shape = new int[d.length];
    for (int i = 0; i < d.length; i++) {
      shape[i] = Math.toIntExact(d[i]);
    }
    return switch (t.elementType()) {
      case FLOAT -> Value.ofFloats(shape, t.floats());
      case INT64 -> Value.ofLongs(shape, t.longs());
      case INT32 -> Value.ofLongs(shape, Arrays.stream(t.ints()).asLongStream().toArray());
      default -> throw new ExecutionException("initializer '" + t.name() + "' is "
          + t.elementType() + "; the canonical executor takes float32 and int64 tensors only");
    };
  }

  @Override
  public void close() {
    workers.close();
  }
}
