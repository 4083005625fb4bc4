package dev.verity.zk;

import dev.verity.core.BlobCid;
import dev.verity.core.Cid;
import dev.verity.onnx.ActivationRanges;
import dev.verity.onnx.Dim;
import dev.verity.onnx.ElementType;
import dev.verity.onnx.OnnxAttribute;
import dev.verity.onnx.OnnxModel;
import dev.verity.onnx.OnnxNode;
import dev.verity.onnx.OnnxReader;
import dev.verity.onnx.OnnxTensorData;
import dev.verity.onnx.OnnxValueInfo;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Turns a float ONNX model into a provable {@link QuantizedModel}: fixed-point arithmetic with
 * power-of-two scales, chosen from the calibration ranges the model file carries ({@link
 * ActivationRanges}, metadata {@value ActivationRanges#METADATA_KEY}). Compilation is
 * deterministic: the same file always gives the same quantized model and so the same {@link
 * VerifyingKey}, which is how a verifier holding only the model file checks a proof (docs/ZK.md,
 * "From ONNX to circuit").
 *
 * <p>Supported: one float input ([N, F] features or [N, C, H, W] images, batch 1 in proofs) and one
 * float output; Gemm (transA 0, any alpha, beta, transB), MatMul by a constant matrix, Conv (2-D,
 * square kernel, equal strides, symmetric padding, one group, no dilation), Relu, MaxPool and
 * AveragePool (2x2, stride 2, no padding), Add of two tensors of the same shape, Flatten and
 * Reshape that flatten, Identity and Dropout. Element-wise Sub, Add, Mul and Div by constants on the
 * model input are folded into the first layer (into its weights and bias); Add or Sub of a constant
 * after Gemm, MatMul or Conv is folded into the bias. A final Softmax is not proven: it is monotone,
 * so the proof covers the logits and the outputs are computed from them by a public function
 * ({@link CompiledModel#decodeOutput}). Anything else is refused with an {@link
 * UnsupportedModelException} naming the operator.
 *
 * <p>Scales (rules version {@value #RULES_VERSION}): every tensor t that is rescaled gets the
 * exponent e_t = floor(log2((2^15 - 1) / (2 r_t))) for its calibration range r_t, so values up to
 * twice the calibrated range fit int16; the input gets one exponent per channel when every reader
 * is a linear layer (else the smallest). A linear layer's weights get the largest exponent that
 * keeps every weight within int16 (per input channel, relative to that channel's exponent); its
 * accumulator is rescaled by the difference of exponents (at most {@value Architecture#MAX_SHIFT}
 * bits, giving up weight precision first). The network's last linear layer is not rescaled: the
 * output is its exact accumulator.
 */
public final class OnnxCompiler {
  /** Version of the scale rules above; a change of rules changes verifying keys. */
  public static final int RULES_VERSION = 1;
  /** Largest int16 magnitude activations and weights use. */
  static final int LIMIT = (1 << 15) - 1;
  /** Calibrated ranges are given this factor of headroom. */
  static final double HEADROOM = 2.0;

  private OnnxCompiler() {}

  /**
   * Compiles a model file, checking first that its bytes are the model {@code cid} names (the
   * proofs will be bound to that CID).
   *
   * @throws IllegalArgumentException if the bytes do not hash to {@code cid}
   * @throws dev.verity.core.DecodingException if they are not a valid ONNX file
   * @throws UnsupportedModelException if the model cannot be proven
   */
  public static CompiledModel compile(Cid cid, byte[] onnxFile) {
    Objects.requireNonNull(cid);
    Cid actual;
    try {
      actual = BlobCid.of(new ByteArrayInputStream(onnxFile));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    if (!actual.equals(cid)) {
      throw new IllegalArgumentException("the model file hashes to " + actual + ", not " + cid);
    }
    return compile(cid, OnnxReader.read(onnxFile));
  }

  /**
   * Compiles a parsed model with the calibration ranges in its metadata. The CID is taken as given:
   * prefer {@link #compile(Cid, byte[])}, which checks it.
   */
  public static CompiledModel compile(Cid cid, OnnxModel model) {
    Objects.requireNonNull(cid);
    Network net = new Translation(model).translate(); // refuses unsupported operators first
    ActivationRanges ranges = ActivationRanges.of(model).orElseThrow(() -> new UnsupportedModelException(
        "the model has no calibration ranges (ONNX metadata '" + ActivationRanges.METADATA_KEY + "'); measure them on"
            + " representative inputs with ActivationRanges.measure(model, examples) and embed them with embedIn(model)"
            + " before publishing"));
    return new Quantization(cid, net, ranges).run();
  }

  /** Compiles with explicit calibration ranges (for calibration experiments; proofs use the file's). */
  public static CompiledModel compile(Cid cid, OnnxModel model, ActivationRanges ranges) {
    Objects.requireNonNull(cid);
    Network net = new Translation(model).translate();
    return new Quantization(cid, net, ranges).run();
  }

  // ---- float network ----------------------------------------------------------------------

  /** A layer of the float network; reads and produces tensor indices as {@link Layer} does. */
  sealed interface FLayer {
    int[] inputs();
  }

  /** Dense (conv false: weights [out][n]) or convolution (weights [co][ci][k][k]); biases mutable for folding. */
  record FLinear(int input, boolean conv, int outputs, int kernel, int stride, int padding, double[] weights, double[] bias)
      implements FLayer {
    @Override
    public int[] inputs() {
      return new int[] {input};
    }
  }

  record FRelu(int input) implements FLayer {
    @Override
    public int[] inputs() {
      return new int[] {input};
    }
  }

  record FPool(int input, boolean max) implements FLayer {
    @Override
    public int[] inputs() {
      return new int[] {input};
    }
  }

  record FAdd(int left, int right) implements FLayer {
    @Override
    public int[] inputs() {
      return new int[] {left, right};
    }
  }

  /** The float network: tensor 0 is the input; layer i produces tensor i + 1. */
  record Network(String inputName, long[] inputDims, Shape inputShape, List<FLayer> layers, List<Shape> shapes,
      List<String> names, int output, String outputName, long[] outputDims, boolean softmax) {}

  // ---- translation from ONNX -----------------------------------------------------------------

  private sealed interface Val {}

  private record Const(long[] dims, double[] data) implements Val {}

  /** A tensor of the network; {@code flat} once flattened to [1, n]. */
  private record Act(int tensor, boolean flat) implements Val {}

  /** The model input after element-wise affine maps x -> a x + c (per element), in layout {@code dims}. */
  private record Input(long[] dims, double[] a, double[] c) implements Val {
    boolean identity() {
      for (int i = 0; i < a.length; i++) {
        if (a[i] != 1 || c[i] != 0) {
          return false;
        }
      }
      return true;
    }

    boolean flat() {
      return dims.length == 2;
    }
  }

  private static final class Translation {
    private final OnnxModel model;
    private final Map<String, Val> values = new HashMap<>();
    private final Map<String, Integer> readers = new HashMap<>();
    private final List<FLayer> layers = new ArrayList<>();
    private final List<Shape> shapes = new ArrayList<>();
    private final List<String> names = new ArrayList<>();
    private final List<Integer> tensorReaders = new ArrayList<>();
    private String softmaxOutput;

    Translation(OnnxModel model) {
      this.model = model;
    }

    Network translate() {
      List<OnnxValueInfo> inputs = model.realInputs();
      if (inputs.size() != 1 || model.outputs().size() != 1) {
        throw new UnsupportedModelException("zk proofs need a model with exactly one input and one output; this one has "
            + inputs.size() + " inputs and " + model.outputs().size() + " outputs");
      }
      OnnxValueInfo in = inputs.get(0);
      OnnxValueInfo out = model.outputs().get(0);
      for (OnnxValueInfo v : List.of(in, out)) {
        if (v.elementType() != ElementType.FLOAT) {
          throw new UnsupportedModelException("'" + v.name() + "' is " + v.elementType() + "; zk proofs need float32 inputs and outputs");
        }
      }
      long[] dims = inputDims(in);
      Shape shape;
      try {
        shape = dims.length == 2 ? Shape.vector((int) dims[1]) : new Shape((int) dims[1], (int) dims[2], (int) dims[3]);
      } catch (IllegalArgumentException e) {
        throw new UnsupportedModelException("input '" + in.name() + "': " + e.getMessage());
      }
      shapes.add(shape);
      names.add(in.name());
      tensorReaders.add(0);
      int n = shape.size();
      double[] ones = new double[n];
      Arrays.fill(ones, 1);
      values.put(in.name(), new Input(dims, ones, new double[n]));
      for (OnnxTensorData t : model.graph().initializers()) {
        constant(t).ifPresent(c -> values.put(t.name(), c));
      }
      for (OnnxNode node : model.graph().nodes()) {
        for (String i : node.inputs()) {
          readers.merge(i, 1, Integer::sum);
        }
      }
      readers.merge(out.name(), 1, Integer::sum);
      for (OnnxNode node : model.graph().nodes()) {
        if (softmaxOutput != null) {
          throw unsupported(node, "only the graph's output may follow a final Softmax");
        }
        translate(node);
      }
      Val result = values.get(out.name());
      if (!(result instanceof Act a)) {
        throw new UnsupportedModelException("the output '" + out.name() + "' is not computed by a supported layer");
      }
      if (softmaxOutput != null && !softmaxOutput.equals(out.name())) {
        throw new UnsupportedModelException("a Softmax must produce the graph's output '" + out.name() + "'");
      }
      if (a.tensor() != shapes.size() - 1 || layers.isEmpty()) {
        throw new UnsupportedModelException("the graph computes values its output does not use, or has no layers");
      }
      for (int t = 0; t < shapes.size() - 1; t++) {
        if (tensorReaders.get(t) == 0) {
          throw new UnsupportedModelException("value '" + names.get(t) + "' is computed but never used");
        }
      }
      Shape os = shapes.get(a.tensor());
      long[] outDims = a.flat() ? new long[] {1, os.size()} : new long[] {1, os.channels(), os.height(), os.width()};
      checkDeclared(out, outDims);
      return new Network(in.name(), dims, shape, List.copyOf(layers), List.copyOf(shapes), List.copyOf(names),
          a.tensor(), out.name(), outDims, softmaxOutput != null);
    }

    private static long[] inputDims(OnnxValueInfo in) {
      List<Dim> d = in.dims();
      if (!in.rankKnown() || (d.size() != 2 && d.size() != 4)) {
        throw new UnsupportedModelException("input '" + in + "' must be [N, F] or [N, C, H, W]");
      }
      long[] out = new long[d.size()];
      out[0] = 1;
      if (d.get(0) instanceof Dim.Fixed f && f.size() != 1) {
        throw new UnsupportedModelException("input '" + in + "' has a fixed batch of " + f.size() + "; proofs cover one example");
      }
      for (int i = 1; i < out.length; i++) {
        if (!(d.get(i) instanceof Dim.Fixed f) || f.size() < 1 || f.size() > Integer.MAX_VALUE) {
          throw new UnsupportedModelException("input '" + in + "' needs fixed positive dimensions after the batch");
        }
        out[i] = f.size();
      }
      return out;
    }

    private static void checkDeclared(OnnxValueInfo out, long[] dims) {
      if (!out.rankKnown()) {
        return;
      }
      List<Dim> d = out.dims();
      boolean ok = d.size() == dims.length;
      for (int i = 1; ok && i < dims.length; i++) {
        ok = !(d.get(i) instanceof Dim.Fixed f) || f.size() == dims[i];
      }
      if (!ok) {
        throw new UnsupportedModelException("output '" + out + "' does not match the computed shape " + Arrays.toString(dims));
      }
    }

    private static java.util.Optional<Const> constant(OnnxTensorData t) {
      double[] d;
      switch (t.elementType()) {
        case FLOAT -> {
          float[] f = t.floats();
          d = new double[f.length];
          for (int i = 0; i < f.length; i++) {
            d[i] = f[i];
          }
        }
        case DOUBLE -> d = t.doubles();
        case INT64 -> d = Arrays.stream(t.longs()).asDoubleStream().toArray();
        case INT32 -> d = Arrays.stream(t.ints()).asDoubleStream().toArray();
        default -> {
          return java.util.Optional.empty();
        }
      }
      for (double v : d) {
        if (!Double.isFinite(v)) {
          throw new UnsupportedModelException("constant '" + t.name() + "' holds a value that is not finite");
        }
      }
      return java.util.Optional.of(new Const(t.dims(), d));
    }

    private static UnsupportedModelException unsupported(OnnxNode n, String why) {
      return new UnsupportedModelException(n.opType(), n.opType() + " node '" + n.name() + "': " + why);
    }

    private Val in(OnnxNode n, int i) {
      if (i >= n.inputs().size() || n.inputs().get(i).isEmpty()) {
        throw unsupported(n, "input " + i + " is missing");
      }
      Val v = values.get(n.inputs().get(i));
      if (v == null) {
        throw unsupported(n, "reads '" + n.inputs().get(i) + "', which is not a float or integer tensor the compiler knows");
      }
      return v;
    }

    private boolean hasInput(OnnxNode n, int i) {
      return i < n.inputs().size() && !n.inputs().get(i).isEmpty();
    }

    private Const constIn(OnnxNode n, int i, String what) {
      if (in(n, i) instanceof Const c) {
        return c;
      }
      throw unsupported(n, what + " must be a constant (an initializer or Constant node)");
    }

    private int push(FLayer layer, Shape shape, String name) {
      for (int t : layer.inputs()) {
        tensorReaders.set(t, tensorReaders.get(t) + 1);
      }
      layers.add(layer);
      shapes.add(shape);
      names.add(name);
      tensorReaders.add(0);
      return shapes.size() - 1;
    }

    private void put(OnnxNode n, Val v) {
      values.put(n.outputs().get(0), v);
    }

    private void translate(OnnxNode n) {
      if (!n.isStandardDomain()) {
        throw new UnsupportedModelException(n.qualifiedOpType(), "operator '" + n.qualifiedOpType() + "' (node '" + n.name()
            + "') is not a standard ONNX operator; zk proofs support " + SUPPORTED);
      }
      if (n.outputs().isEmpty()) {
        throw unsupported(n, "has no output");
      }
      for (int i = 1; i < n.outputs().size(); i++) {
        if (!n.outputs().get(i).isEmpty() && readers.getOrDefault(n.outputs().get(i), 0) > 0) {
          throw unsupported(n, "its output '" + n.outputs().get(i) + "' is used; only the first output is supported");
        }
      }
      switch (n.opType()) {
        case "Identity", "Dropout" -> put(n, in(n, 0));
        case "Constant" -> put(n, constantNode(n));
        case "Flatten" -> {
          long axis = n.attribute("axis").map(OnnxAttribute::asInt).orElse(1L);
          if (axis != 1) {
            throw unsupported(n, "axis " + axis + " is not supported; only axis 1 (keep the batch)");
          }
          put(n, flatten(n, in(n, 0)));
        }
        case "Reshape" -> put(n, reshape(n));
        case "Gemm" -> put(n, gemm(n));
        case "MatMul" -> put(n, matMul(n));
        case "Conv" -> put(n, conv(n));
        case "Relu" -> {
          int t = tensorOf(n, in(n, 0), "Relu");
          Act a = (Act) asAct(in(n, 0), t);
          put(n, new Act(push(new FRelu(t), shapes.get(t), n.outputs().get(0)), a.flat()));
        }
        case "MaxPool", "AveragePool" -> put(n, pool(n));
        case "Add", "Sub", "Mul", "Div" -> put(n, arithmetic(n));
        case "Softmax" -> {
          if (!(in(n, 0) instanceof Act a) || !a.flat()) {
            throw unsupported(n, "only a Softmax over the logits of a [N, K] output is supported");
          }
          long axis = n.attribute("axis").map(OnnxAttribute::asInt).orElse(-1L);
          if (axis != 1 && axis != -1) {
            throw unsupported(n, "axis " + axis + " is not supported; only the class axis (1 or -1)");
          }
          softmaxOutput = n.outputs().get(0);
          put(n, a);
        }
        default -> throw new UnsupportedModelException(n.opType(), "operator '" + n.opType() + "' (node '" + n.name()
            + "') is not supported by zk proofs; supported: " + SUPPORTED);
      }
    }

    private Const constantNode(OnnxNode n) {
      OnnxAttribute v = n.attribute("value").orElseThrow(() -> unsupported(n, "only the 'value' attribute is supported"));
      if (v.kind() != OnnxAttribute.Kind.TENSOR) {
        throw unsupported(n, "only a tensor 'value' is supported");
      }
      return constant(v.asTensor()).orElseThrow(() -> unsupported(n, "holds " + v.asTensor().elementType() + " values"));
    }

    private Val flatten(OnnxNode n, Val v) {
      return switch (v) {
        case Act a -> new Act(a.tensor(), true);
        case Input x -> new Input(new long[] {1, x.a().length}, x.a(), x.c());
        case Const c -> throw unsupported(n, "flattening constants is not supported");
      };
    }

    private Val reshape(OnnxNode n) {
      Val v = in(n, 0);
      double[] target = constIn(n, 1, "the shape").data();
      int size = v instanceof Act a ? shapes.get(a.tensor()).size() : v instanceof Input x ? x.a().length : -1;
      if (target.length == 2 && (target[0] == 1 || target[0] == 0 || target[0] == -1)
          && (target[1] == size || target[1] == -1) && !(target[0] == -1 && target[1] == -1)) {
        return flatten(n, v);
      }
      throw unsupported(n, "only a Reshape that flattens to [N, " + size + "] is supported, not to " + Arrays.toString(target));
    }

    /** The network tensor a node reads; the model input only when no affine map is pending. */
    private int tensorOf(OnnxNode n, Val v, String what) {
      return switch (v) {
        case Act a -> a.tensor();
        case Input x -> {
          if (!x.identity()) {
            throw unsupported(n, "element-wise Sub/Add/Mul/Div on the input can be folded only into a Gemm, MatMul or Conv"
                + " that reads it; here " + what + " reads it");
          }
          yield 0;
        }
        case Const c -> throw unsupported(n, what + " of a constant is not supported");
      };
    }

    private static Val asAct(Val v, int t) {
      return v instanceof Act a ? a : new Act(t, v instanceof Input x && x.flat());
    }

    private Val gemm(OnnxNode n) {
      if (n.attribute("transA").map(OnnxAttribute::asInt).orElse(0L) != 0) {
        throw unsupported(n, "transA=1 is not supported");
      }
      double alpha = n.attribute("alpha").map(OnnxAttribute::asFloat).orElse(1f);
      double beta = n.attribute("beta").map(OnnxAttribute::asFloat).orElse(1f);
      boolean transB = n.attribute("transB").map(OnnxAttribute::asInt).orElse(0L) != 0;
      Const b = constIn(n, 1, "B");
      double[] bias = null;
      if (hasInput(n, 2)) {
        Const c = constIn(n, 2, "C");
        int outs = b.dims().length == 2 ? (int) (transB ? b.dims()[0] : b.dims()[1]) : 0;
        bias = broadcast(n, c, new long[] {1, outs});
        for (int i = 0; i < bias.length; i++) {
          bias[i] *= beta;
        }
      }
      return dense(n, in(n, 0), b, transB, alpha, bias);
    }

    private Val matMul(OnnxNode n) {
      return dense(n, in(n, 0), constIn(n, 1, "the right operand"), false, 1, null);
    }

    private Val dense(OnnxNode n, Val x, Const b, boolean transB, double alpha, double[] bias) {
      boolean flat = x instanceof Act a ? a.flat() : x instanceof Input i && i.flat();
      if (!flat) {
        throw unsupported(n, "reads a tensor that is not [N, K]; Flatten it first");
      }
      long[] d = b.dims();
      int size = x instanceof Act a ? shapes.get(a.tensor()).size() : ((Input) x).a().length;
      if (d.length != 2 || (transB ? d[1] : d[0]) != size) {
        throw unsupported(n, "weights of shape " + Arrays.toString(d) + " do not fit an input of " + size + " values");
      }
      int outs = (int) (transB ? d[0] : d[1]);
      double[] w = new double[outs * size];
      for (int o = 0; o < outs; o++) {
        for (int j = 0; j < size; j++) {
          w[o * size + j] = alpha * (transB ? b.data()[o * size + j] : b.data()[j * outs + o]);
        }
      }
      FLinear layer = new FLinear(0, false, outs, 1, 1, 0, w, bias == null ? new double[outs] : bias);
      return linear(n, x, layer, Shape.vector(outs), true);
    }

    private Val conv(OnnxNode n) {
      Val x = in(n, 0);
      Const w = constIn(n, 1, "the weights");
      long[] d = w.dims();
      Shape in = x instanceof Act a && !a.flat() ? shapes.get(a.tensor())
          : x instanceof Input i && !i.flat() ? shapes.get(0) : null;
      if (in == null) {
        throw unsupported(n, "reads a tensor that is not an [N, C, H, W] image");
      }
      if (d.length != 4 || d[1] != in.channels() || d[2] != d[3]) {
        throw unsupported(n, "weights " + Arrays.toString(d) + " are not [M, " + in.channels() + ", k, k] (square kernels only)");
      }
      if (n.attribute("group").map(OnnxAttribute::asInt).orElse(1L) != 1) {
        throw unsupported(n, "grouped convolutions are not supported");
      }
      long[] dil = n.attribute("dilations").map(OnnxAttribute::asInts).orElse(new long[] {1, 1});
      if (!Arrays.equals(dil, new long[] {1, 1})) {
        throw unsupported(n, "dilations " + Arrays.toString(dil) + " are not supported");
      }
      long[] ks = n.attribute("kernel_shape").map(OnnxAttribute::asInts).orElse(new long[] {d[2], d[3]});
      if (!Arrays.equals(ks, new long[] {d[2], d[3]})) {
        throw unsupported(n, "kernel_shape " + Arrays.toString(ks) + " disagrees with the weights");
      }
      long[] st = n.attribute("strides").map(OnnxAttribute::asInts).orElse(new long[] {1, 1});
      if (st.length != 2 || st[0] != st[1] || st[0] < 1) {
        throw unsupported(n, "strides " + Arrays.toString(st) + " are not supported; only equal strides");
      }
      long[] pads = explicitPads(n);
      if (pads[0] != pads[1] || pads[0] != pads[2] || pads[0] != pads[3] || pads[0] >= d[2]) {
        throw unsupported(n, "pads " + Arrays.toString(pads) + " are not supported; only the same padding on every side,"
            + " smaller than the kernel");
      }
      int co = (int) d[0];
      int k = (int) d[2];
      double[] bias = hasInput(n, 2) ? broadcast(n, constIn(n, 2, "the bias"), new long[] {co}) : new double[co];
      FLinear layer = new FLinear(0, true, co, k, (int) st[0], (int) pads[0], w.data().clone(), bias);
      Shape out;
      try {
        out = Architecture.deriveShapes(in, List.of(new Layer.Conv2d(0, co, k, (int) st[0], (int) pads[0]))).get(1);
      } catch (IllegalArgumentException e) {
        throw unsupported(n, e.getMessage());
      }
      return linear(n, x, layer, out, false);
    }

    private static long[] explicitPads(OnnxNode n) {
      String auto = n.attribute("auto_pad").map(OnnxAttribute::asString).orElse("NOTSET");
      if (!auto.equals("NOTSET") && !auto.equals("VALID")) {
        throw unsupported(n, "auto_pad " + auto + " is not supported; give explicit pads");
      }
      long[] p = n.attribute("pads").map(OnnxAttribute::asInts).orElse(new long[4]);
      if (p.length != 4) {
        throw unsupported(n, "pads " + Arrays.toString(p) + " are not 2-D");
      }
      return p;
    }

    /** Adds a dense or convolution layer, folding a pending affine map of the input into it. */
    private Val linear(OnnxNode n, Val x, FLinear layer, Shape out, boolean flat) {
      int t;
      double[] w = layer.weights();
      double[] b = layer.bias();
      if (x instanceof Input input) {
        t = 0;
        Shape is = shapes.get(0);
        if (!layer.conv()) {
          int size = is.size();
          for (int o = 0; o < layer.outputs(); o++) {
            for (int j = 0; j < size; j++) {
              b[o] += w[o * size + j] * input.c()[j];
              w[o * size + j] *= input.a()[j];
            }
          }
        } else {
          int plane = is.height() * is.width();
          int ci = is.channels();
          int kk = layer.kernel() * layer.kernel();
          for (int c = 0; c < ci; c++) {
            double a = input.a()[c * plane];
            double off = input.c()[c * plane];
            for (int i = 0; i < plane; i++) {
              if (input.a()[c * plane + i] != a || input.c()[c * plane + i] != off) {
                throw unsupported(n, "the element-wise map on the input differs within a channel, which a convolution cannot absorb");
              }
            }
            if (off != 0 && layer.padding() > 0) {
              throw unsupported(n, "an offset (Sub/Add) on the input cannot be folded into a padded convolution: its"
                  + " zero padding would no longer be zero");
            }
            for (int o = 0; o < layer.outputs(); o++) {
              for (int q = 0; q < kk; q++) {
                int at = (o * ci + c) * kk + q;
                b[o] += w[at] * off;
                w[at] *= a;
              }
            }
          }
        }
      } else if (x instanceof Act a) {
        t = a.tensor();
      } else {
        throw unsupported(n, "reads a constant; only tensors computed from the input are supported");
      }
      FLinear placed = new FLinear(t, layer.conv(), layer.outputs(), layer.kernel(), layer.stride(), layer.padding(), w, b);
      return new Act(push(placed, out, n.outputs().get(0)), flat);
    }

    private Val pool(OnnxNode n) {
      Val x = in(n, 0);
      int t = tensorOf(n, x, n.opType());
      if (x instanceof Act a && a.flat() || x instanceof Input i && i.flat()) {
        throw unsupported(n, "reads a tensor that is not an [N, C, H, W] image");
      }
      long[] k = n.attribute("kernel_shape").map(OnnxAttribute::asInts).orElse(null);
      long[] st = n.attribute("strides").map(OnnxAttribute::asInts).orElse(new long[] {1, 1});
      if (!Arrays.equals(k, new long[] {2, 2}) || !Arrays.equals(st, new long[] {2, 2})) {
        throw unsupported(n, "only 2x2 windows with stride 2 are supported (kernel_shape " + Arrays.toString(k)
            + ", strides " + Arrays.toString(st) + ")");
      }
      long[] pads = explicitPads(n);
      if (Arrays.stream(pads).anyMatch(p -> p != 0) || n.attribute("ceil_mode").map(OnnxAttribute::asInt).orElse(0L) != 0
          || !Arrays.equals(n.attribute("dilations").map(OnnxAttribute::asInts).orElse(new long[] {1, 1}), new long[] {1, 1})) {
        throw unsupported(n, "padding, ceil_mode and dilations are not supported");
      }
      Shape in = shapes.get(t);
      Shape out;
      try {
        out = Architecture.deriveShapes(in, List.of(new Layer.MaxPool(0))).get(1);
      } catch (IllegalArgumentException e) {
        throw unsupported(n, e.getMessage());
      }
      return new Act(push(new FPool(t, n.opType().equals("MaxPool")), out, n.outputs().get(0)), false);
    }

    private Val arithmetic(OnnxNode n) {
      Val a = in(n, 0);
      Val b = in(n, 1);
      String op = n.opType();
      if (a instanceof Const && b instanceof Const) {
        throw unsupported(n, "arithmetic on two constants is not supported; fold it before export");
      }
      if (a instanceof Input || b instanceof Input) {
        return affine(n, a, b);
      }
      if (a instanceof Act x && b instanceof Act y) {
        if (!op.equals("Add")) {
          throw unsupported(n, op + " of two computed tensors is not supported; only Add");
        }
        if (x.flat() != y.flat() || !shapes.get(x.tensor()).equals(shapes.get(y.tensor()))) {
          throw unsupported(n, "adds tensors of different shapes (" + shapes.get(x.tensor()) + ", " + shapes.get(y.tensor())
              + "); broadcasting between computed tensors is not supported");
        }
        return new Act(push(new FAdd(x.tensor(), y.tensor()), shapes.get(x.tensor()), n.outputs().get(0)), x.flat());
      }
      // a computed tensor and a constant: only a bias right after a linear layer
      Act x = (Act) (a instanceof Act ? a : b);
      Const c = (Const) (a instanceof Const ? a : b);
      boolean addsToBias = op.equals("Add") || op.equals("Sub") && a instanceof Act;
      int t = x.tensor();
      if (!addsToBias || t == 0 || !(layers.get(t - 1) instanceof FLinear l) || t != shapes.size() - 1
          || readers.getOrDefault(n.inputs().get(a instanceof Act ? 0 : 1), 0) != 1) {
        throw unsupported(n, op + " of a computed tensor and a constant is supported only as a bias added right after"
            + " Gemm, MatMul or Conv; element-wise Sub/Add/Mul/Div by constants is supported on the model input");
      }
      Shape s = shapes.get(t);
      double sign = op.equals("Sub") ? -1 : 1;
      if (!l.conv()) {
        double[] v = broadcast(n, c, new long[] {1, s.size()});
        for (int o = 0; o < v.length; o++) {
          l.bias()[o] += sign * v[o];
        }
      } else {
        double[] v = broadcast(n, c, new long[] {1, s.channels(), s.height(), s.width()});
        int plane = s.height() * s.width();
        for (int o = 0; o < s.channels(); o++) {
          for (int i = 1; i < plane; i++) {
            if (v[o * plane + i] != v[o * plane]) {
              throw unsupported(n, "adds a constant that varies within a channel; only per-channel biases fold into Conv");
            }
          }
          l.bias()[o] += sign * v[o * plane];
        }
      }
      names.set(t, n.outputs().get(0));
      return x;
    }

    private Val affine(OnnxNode n, Val a, Val b) {
      String op = n.opType();
      boolean inputFirst = a instanceof Input;
      if (!((inputFirst ? b : a) instanceof Const)) {
        throw unsupported(n, op + " of the input and a computed tensor is not supported");
      }
      Input x = (Input) (inputFirst ? a : b);
      double[] k = broadcast(n, (Const) (inputFirst ? b : a), x.dims());
      double[] na = x.a().clone();
      double[] nc = x.c().clone();
      for (int i = 0; i < na.length; i++) {
        switch (op) {
          case "Add" -> nc[i] += k[i];
          case "Sub" -> {
            if (inputFirst) {
              nc[i] -= k[i];
            } else {
              na[i] = -na[i];
              nc[i] = k[i] - nc[i];
            }
          }
          case "Mul" -> {
            na[i] *= k[i];
            nc[i] *= k[i];
          }
          default -> {
            if (!inputFirst) {
              throw unsupported(n, "dividing a constant by the input is not an affine map");
            }
            if (k[i] == 0) {
              throw unsupported(n, "divides by zero");
            }
            na[i] /= k[i];
            nc[i] /= k[i];
          }
        }
        if (!Double.isFinite(na[i]) || !Double.isFinite(nc[i])) {
          throw unsupported(n, "the element-wise map on the input overflows");
        }
      }
      return new Input(x.dims(), na, nc);
    }

    /** A constant broadcast (NumPy rules) to {@code dims}, as a row-major array. */
    private static double[] broadcast(OnnxNode n, Const c, long[] dims) {
      long[] from = c.dims();
      if (from.length > dims.length) {
        throw unsupported(n, "constant of shape " + Arrays.toString(from) + " does not broadcast to " + Arrays.toString(dims));
      }
      int off = dims.length - from.length;
      for (int i = 0; i < from.length; i++) {
        if (from[i] != 1 && from[i] != dims[i + off]) {
          throw unsupported(n, "constant of shape " + Arrays.toString(from) + " does not broadcast to " + Arrays.toString(dims));
        }
      }
      int total = 1;
      for (long d : dims) {
        total = Math.multiplyExact(total, (int) d);
      }
      double[] out = new double[total];
      int[] coord = new int[dims.length];
      for (int i = 0; i < total; i++) {
        int src = 0;
        for (int dd = off; dd < dims.length; dd++) {
          int size = (int) from[dd - off];
          src = src * size + (size == 1 ? 0 : coord[dd]);
        }
        out[i] = c.data()[src];
        for (int dd = dims.length - 1; dd >= 0; dd--) {
          if (++coord[dd] < dims[dd]) {
            break;
          }
          coord[dd] = 0;
        }
      }
      return out;
    }
  }

  static final String SUPPORTED = "Gemm, MatMul, Conv, Relu, MaxPool, AveragePool (2x2, stride 2), Add, Flatten, Reshape"
      + " (flattening), Identity, Dropout, Constant, Sub/Add/Mul/Div by constants on the input, and a final Softmax";

  // ---- quantization -------------------------------------------------------------------------

  private static final class Quantization {
    private final Cid cid;
    private final Network net;
    private final ActivationRanges ranges;
    private final int[] readers;

    Quantization(Cid cid, Network net, ActivationRanges ranges) {
      this.cid = cid;
      this.net = net;
      this.ranges = ranges;
      this.readers = new int[net.shapes().size()];
      for (FLayer l : net.layers()) {
        for (int t : l.inputs()) {
          readers[t]++;
        }
      }
    }

    /** The exponent giving values up to HEADROOM times the range within int16. */
    static int exponentFor(double range) {
      if (!(range > 0)) {
        return 0;
      }
      int e = Math.getExponent(LIMIT / (range * HEADROOM));
      return Math.max(-60, Math.min(60, e));
    }

    private double range(int tensor) {
      String name = net.names().get(tensor);
      double[] r = ranges.range(name).orElseThrow(() -> new UnsupportedModelException(
          "the calibration ranges have no entry for '" + name + "'; measure them again with ActivationRanges.measure"));
      if (r.length != 1) {
        throw new UnsupportedModelException("the calibration range of '" + name + "' has " + r.length + " values, expected one");
      }
      return r[0];
    }

    CompiledModel run() {
      Shape inShape = net.inputShape();
      int channels = inShape.channels();
      double[] r = ranges.range(net.inputName()).orElseThrow(() -> new UnsupportedModelException(
          "the calibration ranges have no entry for the input '" + net.inputName() + "'"));
      if (r.length != channels && r.length != 1) {
        throw new UnsupportedModelException("the calibration range of input '" + net.inputName() + "' has " + r.length
            + " values; the input has " + channels + " channels");
      }
      int[] inExp = new int[channels];
      boolean perChannel = true;
      for (FLayer l : net.layers()) {
        for (int t : l.inputs()) {
          perChannel &= t != 0 || l instanceof FLinear;
        }
      }
      int min = Integer.MAX_VALUE;
      for (int c = 0; c < channels; c++) {
        inExp[c] = exponentFor(r[r.length == 1 ? 0 : c]);
        min = Math.min(min, inExp[c]);
      }
      if (!perChannel) {
        Arrays.fill(inExp, min);
      }

      QuantizedModel.Builder b = QuantizedModel.builder(cid, inShape);
      int n = net.shapes().size();
      int[] q = new int[n];
      int[] exp = new int[n];
      boolean[] fused = new boolean[n];
      q[0] = 0;
      exp[0] = min;
      int outputExp = 0;
      List<FLayer> layers = net.layers();
      for (int i = 0; i < layers.size(); i++) {
        int t = i + 1;
        FLayer l = layers.get(i);
        boolean isOutput = t == net.output();
        boolean reluNext = !isOutput && readers[t] == 1 && i + 1 < layers.size() && layers.get(i + 1) instanceof FRelu fr
            && fr.input() == t;
        switch (l) {
          case FLinear lin -> {
            int[] colExp = new int[net.shapes().get(lin.input()).channels()];
            for (int c = 0; c < colExp.length; c++) {
              colExp[c] = lin.input() == 0 ? inExp[c] : exp[lin.input()];
            }
            int e = weightExponent(lin, colExp);
            if (isOutput) {
              q[t] = place(b, lin, q[lin.input()], colExp, e);
              exp[t] = e;
            } else {
              int out = exponentFor(range(t));
              e = Math.min(e, out + Architecture.MAX_SHIFT);
              int shift = Math.max(0, e - out);
              int acc = place(b, lin, q[lin.input()], colExp, e);
              q[t] = b.requant(acc, shift, reluNext);
              exp[t] = e - shift;
              fused[t] = reluNext;
            }
          }
          case FRelu relu -> {
            if (fused[relu.input()]) {
              q[t] = q[relu.input()];
            } else {
              q[t] = b.requant(q[relu.input()], 0, true);
            }
            exp[t] = exp[relu.input()];
          }
          case FPool p when p.max() -> {
            q[t] = b.maxPool(q[p.input()]);
            exp[t] = exp[p.input()];
          }
          case FPool p -> {
            int sum = b.sumPool(q[p.input()]);
            if (isOutput) {
              q[t] = sum;
              exp[t] = exp[p.input()] + 2;
            } else {
              q[t] = b.requant(sum, 2, reluNext);
              exp[t] = exp[p.input()];
              fused[t] = reluNext;
            }
          }
          case FAdd add -> {
            int left = q[add.left()];
            int right = q[add.right()];
            int el = exp[add.left()];
            int er = exp[add.right()];
            if (el > er) {
              left = b.requant(left, requireShift(el - er), false);
            } else if (er > el) {
              right = b.requant(right, requireShift(er - el), false);
            }
            int e = Math.min(el, er);
            int sum = b.add(left, right);
            if (isOutput) {
              q[t] = sum;
              exp[t] = e;
            } else {
              int out = exponentFor(range(t));
              int shift = Math.max(0, Math.min(Architecture.MAX_SHIFT, e - out));
              q[t] = b.requant(sum, shift, reluNext);
              exp[t] = e - shift;
              fused[t] = reluNext;
            }
          }
        }
        if (isOutput) {
          outputExp = exp[t];
        }
      }
      QuantizedModel model;
      try {
        model = b.build();
      } catch (IllegalArgumentException e) {
        throw new UnsupportedModelException("the quantized network is not provable: " + e.getMessage());
      }
      return new CompiledModel(model, net.inputName(), net.inputDims(), inExp, net.outputName(), net.outputDims(),
          outputExp, net.softmax());
    }

    private static int requireShift(int shift) {
      if (shift > Architecture.MAX_SHIFT) {
        throw new UnsupportedModelException("an Add joins tensors whose scales differ by 2^" + shift + "; at most 2^"
            + Architecture.MAX_SHIFT + " is supported");
      }
      return shift;
    }

    /** Largest weight exponent keeping every quantized weight within int16. */
    private static int weightExponent(FLinear l, int[] colExp) {
      int channels = colExp.length;
      double[] max = new double[channels];
      double[] w = l.weights();
      int perOut = w.length / l.outputs();
      int perChannel = perOut / channels;
      for (int i = 0; i < w.length; i++) {
        int c = (i % perOut) / perChannel;
        max[c] = Math.max(max[c], Math.abs(w[i]));
      }
      int e = Integer.MAX_VALUE;
      for (int c = 0; c < channels; c++) {
        if (max[c] > 0) {
          e = Math.min(e, colExp[c] + Math.getExponent(LIMIT / max[c]));
        }
      }
      if (e == Integer.MAX_VALUE) {
        e = Arrays.stream(colExp).max().orElse(0);
      }
      return e;
    }

    /** Quantizes a linear layer's weights and bias at accumulator exponent e and adds it. */
    private static int place(QuantizedModel.Builder b, FLinear l, int input, int[] colExp, int e) {
      double[] w = l.weights();
      int channels = colExp.length;
      int perOut = w.length / l.outputs();
      int perChannel = perOut / channels;
      int[] wq = new int[w.length];
      for (int i = 0; i < w.length; i++) {
        int c = (i % perOut) / perChannel;
        wq[i] = (int) Math.rint(Math.scalb(w[i], e - colExp[c]));
      }
      long[] bq = new long[l.outputs()];
      for (int o = 0; o < bq.length; o++) {
        double v = Math.rint(Math.scalb(l.bias()[o], e));
        if (!(Math.abs(v) <= QuantizedModel.MAX_ACCUMULATOR)) {
          throw new UnsupportedModelException("a bias of " + l.bias()[o] + " is too large for the accumulator at scale 2^" + e);
        }
        bq[o] = (long) v;
      }
      try {
        return l.conv() ? b.conv2d(input, l.outputs(), l.kernel(), l.stride(), l.padding(), wq, bq)
            : b.dense(input, l.outputs(), wq, bq);
      } catch (IllegalArgumentException ex) {
        throw new UnsupportedModelException("layer cannot be quantized: " + ex.getMessage());
      }
    }
  }
}
