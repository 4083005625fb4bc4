package dev.verity.onnx;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Reference execution of small feed-forward ONNX models in float64, one example at a time, in
 * plain Java: what calibration ({@link ActivationRanges}) observes, and a reference to compare
 * engines and quantized models against. Deterministic on every JVM (no intrinsics whose result may
 * differ between platforms: {@link StrictMath} for exponentials).
 *
 * <p>Supported operators ({@link #OPERATORS}): Identity, Dropout (inference), Constant, Add, Sub,
 * Mul, Div (NumPy broadcasting), Relu, Gemm, MatMul (2-D), Conv (2-D, one group, no dilation),
 * MaxPool and AveragePool (2-D, no dilation, {@code ceil_mode} 0), Flatten, Reshape, Softmax. The
 * model has exactly one input, of element type float, and its first dimension is the batch, which
 * is 1 here. Anything else is refused when the evaluator is created, naming the operator.
 *
 * <p>Instances are immutable and thread-safe.
 */
public final class ReferenceInference {
  /** The operators this evaluator runs. */
  public static final Set<String> OPERATORS = Set.of("Identity", "Dropout", "Constant", "Add", "Sub", "Mul", "Div",
      "Relu", "Gemm", "MatMul", "Conv", "MaxPool", "AveragePool", "Flatten", "Reshape", "Softmax");

  /** A tensor of float64 values, row-major. */
  public record Values(long[] dims, double[] data) {
    public Values {
      dims = dims.clone();
      if (OnnxTensorData.elementCount(dims) != data.length) {
        throw new IllegalArgumentException("dims " + Arrays.toString(dims) + " do not hold " + data.length + " values");
      }
    }

    @Override
    public long[] dims() {
      return dims.clone();
    }

    /** Largest absolute value, or 0 when empty. */
    public double maxAbs() {
      double m = 0;
      for (double v : data) {
        m = Math.max(m, Math.abs(v));
      }
      return m;
    }
  }

  private final OnnxModel model;
  private final OnnxValueInfo input;
  private final Map<String, Values> constants;

  private ReferenceInference(OnnxModel model) {
    this.model = model;
    List<OnnxValueInfo> inputs = model.realInputs();
    if (inputs.size() != 1) {
      throw new IllegalArgumentException("the reference evaluator runs models with one input; this one has " + inputs.size());
    }
    this.input = inputs.get(0);
    if (input.elementType() != ElementType.FLOAT) {
      throw new IllegalArgumentException("input '" + input.name() + "' is " + input.elementType() + "; only FLOAT inputs are supported");
    }
    for (OnnxNode n : model.graph().nodes()) {
      if (!n.isStandardDomain() || !OPERATORS.contains(n.opType())) {
        throw new IllegalArgumentException("operator '" + n.qualifiedOpType() + "' (node '" + n.name()
            + "') is not supported by the reference evaluator; supported: " + new java.util.TreeSet<>(OPERATORS));
      }
    }
    Map<String, Values> c = new HashMap<>();
    for (OnnxTensorData t : model.graph().initializers()) {
      numeric(t).ifPresent(v -> c.put(t.name(), v));
    }
    this.constants = c;
  }

  /** Prepares a model; {@link IllegalArgumentException} names what is not supported. */
  public static ReferenceInference of(OnnxModel model) {
    return new ReferenceInference(model);
  }

  public OnnxModel model() {
    return model;
  }

  /** The model's one input. */
  public OnnxValueInfo input() {
    return input;
  }

  /**
   * The input's dims with the batch dimension set to 1.
   *
   * @throws IllegalArgumentException if a dimension other than the batch is not fixed
   */
  public long[] inputDims() {
    List<Dim> dims = input.dims();
    if (!input.rankKnown() || dims.isEmpty()) {
      throw new IllegalArgumentException("input '" + input.name() + "' has no declared shape");
    }
    long[] out = new long[dims.size()];
    out[0] = 1;
    for (int i = 1; i < out.length; i++) {
      if (!(dims.get(i) instanceof Dim.Fixed f)) {
        throw new IllegalArgumentException("input '" + input.name() + "' dimension " + i + " is not fixed: " + input);
      }
      out[i] = f.size();
    }
    return out;
  }

  /**
   * Runs the model on one example (the input's values in row-major order) and returns every value
   * computed, by name, the input included, in the order they were computed.
   */
  public Map<String, Values> run(float[] example) {
    long[] dims = inputDims();
    if (OnnxTensorData.elementCount(dims) != example.length) {
      throw new IllegalArgumentException("input '" + input.name() + "' needs " + OnnxTensorData.elementCount(dims)
          + " values, got " + example.length);
    }
    double[] x = new double[example.length];
    for (int i = 0; i < x.length; i++) {
      x[i] = example[i];
    }
    Map<String, Values> env = new LinkedHashMap<>();
    env.put(input.name(), new Values(dims, x));
    for (OnnxNode n : model.graph().nodes()) {
      Values out = evaluate(n, env);
      env.put(n.outputs().get(0), out);
    }
    return env;
  }

  /** The model's first output for one example. */
  public Values output(float[] example) {
    return run(example).get(model.outputs().get(0).name());
  }

  private Values get(Map<String, Values> env, OnnxNode n, int i) {
    if (i >= n.inputs().size() || n.inputs().get(i).isEmpty()) {
      throw new IllegalArgumentException("node '" + n.name() + "' (" + n.opType() + ") lacks input " + i);
    }
    String name = n.inputs().get(i);
    Values v = env.get(name);
    if (v == null) {
      v = constants.get(name);
    }
    if (v == null) {
      throw new IllegalArgumentException("node '" + n.name() + "' reads '" + name + "', which is not a numeric value");
    }
    return v;
  }

  private Values evaluate(OnnxNode n, Map<String, Values> env) {
    return switch (n.opType()) {
      case "Identity", "Dropout" -> get(env, n, 0);
      case "Constant" -> constant(n);
      case "Add" -> broadcast(get(env, n, 0), get(env, n, 1), '+', n);
      case "Sub" -> broadcast(get(env, n, 0), get(env, n, 1), '-', n);
      case "Mul" -> broadcast(get(env, n, 0), get(env, n, 1), '*', n);
      case "Div" -> broadcast(get(env, n, 0), get(env, n, 1), '/', n);
      case "Relu" -> {
        Values x = get(env, n, 0);
        double[] y = x.data().clone();
        for (int i = 0; i < y.length; i++) {
          y[i] = Math.max(0, y[i]);
        }
        yield new Values(x.dims(), y);
      }
      case "Gemm" -> gemm(n, env);
      case "MatMul" -> matMul(get(env, n, 0), get(env, n, 1), false, 1, n);
      case "Conv" -> conv(n, env);
      case "MaxPool" -> pool(n, get(env, n, 0), true);
      case "AveragePool" -> pool(n, get(env, n, 0), false);
      case "Flatten" -> {
        Values x = get(env, n, 0);
        long[] d = x.dims();
        int axis = (int) intAttr(n, "axis", 1);
        if (axis < 0) {
          axis += d.length;
        }
        long a = 1;
        for (int i = 0; i < axis; i++) {
          a *= d[i];
        }
        yield new Values(new long[] {a, x.data().length / Math.max(a, 1)}, x.data());
      }
      case "Reshape" -> reshape(get(env, n, 0), get(env, n, 1), n);
      case "Softmax" -> softmax(n, get(env, n, 0));
      default -> throw new IllegalArgumentException("operator '" + n.opType() + "' is not supported");
    };
  }

  private static Optional<Values> numeric(OnnxTensorData t) {
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
      case INT64 -> {
        long[] l = t.longs();
        d = new double[l.length];
        for (int i = 0; i < l.length; i++) {
          d[i] = l[i];
        }
      }
      case INT32 -> {
        int[] l = t.ints();
        d = new double[l.length];
        for (int i = 0; i < l.length; i++) {
          d[i] = l[i];
        }
      }
      default -> {
        return Optional.empty();
      }
    }
    return Optional.of(new Values(t.dims(), d));
  }

  private static Values constant(OnnxNode n) {
    OnnxAttribute value = n.attribute("value").orElseThrow(
        () -> new IllegalArgumentException("Constant node '" + n.name() + "' needs a 'value' tensor attribute"));
    if (value.kind() != OnnxAttribute.Kind.TENSOR) {
      throw new IllegalArgumentException("Constant node '" + n.name() + "' has a " + value.kind() + " value; only tensors are supported");
    }
    return numeric(value.asTensor()).orElseThrow(
        () -> new IllegalArgumentException("Constant node '" + n.name() + "' holds " + value.asTensor().elementType()));
  }

  static long intAttr(OnnxNode n, String name, long fallback) {
    return n.attribute(name).map(OnnxAttribute::asInt).orElse(fallback);
  }

  private static long[] intsAttr(OnnxNode n, String name, long[] fallback) {
    return n.attribute(name).map(OnnxAttribute::asInts).orElse(fallback);
  }

  private static float floatAttr(OnnxNode n, String name, float fallback) {
    return n.attribute(name).map(OnnxAttribute::asFloat).orElse(fallback);
  }

  /** NumPy broadcasting of two operands. */
  static long[] broadcastDims(long[] a, long[] b, OnnxNode n) {
    int r = Math.max(a.length, b.length);
    long[] out = new long[r];
    for (int i = 0; i < r; i++) {
      long x = i - (r - a.length) >= 0 ? a[i - (r - a.length)] : 1;
      long y = i - (r - b.length) >= 0 ? b[i - (r - b.length)] : 1;
      if (x != y && x != 1 && y != 1) {
        throw new IllegalArgumentException("node '" + n.name() + "' (" + n.opType() + ") cannot broadcast "
            + Arrays.toString(a) + " with " + Arrays.toString(b));
      }
      out[i] = Math.max(x, y);
    }
    return out;
  }

  /** Index into a tensor of dims {@code from} for each element of the broadcast shape {@code to}. */
  static int[] broadcastIndex(long[] from, long[] to) {
    int n = Math.toIntExact(OnnxTensorData.elementCount(to));
    int[] idx = new int[n];
    int r = to.length;
    int off = r - from.length;
    long[] coord = new long[r];
    for (int i = 0; i < n; i++) {
      long flat = 0;
      for (int d = off; d < r; d++) {
        long size = from[d - off];
        flat = flat * size + (size == 1 ? 0 : coord[d]);
      }
      idx[i] = (int) flat;
      for (int d = r - 1; d >= 0; d--) {
        if (++coord[d] < to[d]) {
          break;
        }
        coord[d] = 0;
      }
    }
    return idx;
  }

  private static Values broadcast(Values a, Values b, char op, OnnxNode n) {
    long[] dims = broadcastDims(a.dims(), b.dims(), n);
    int[] ia = broadcastIndex(a.dims(), dims);
    int[] ib = broadcastIndex(b.dims(), dims);
    double[] out = new double[ia.length];
    double[] x = a.data();
    double[] y = b.data();
    for (int i = 0; i < out.length; i++) {
      double u = x[ia[i]];
      double v = y[ib[i]];
      out[i] = switch (op) {
        case '+' -> u + v;
        case '-' -> u - v;
        case '*' -> u * v;
        default -> u / v;
      };
    }
    return new Values(dims, out);
  }

  private Values gemm(OnnxNode n, Map<String, Values> env) {
    if (intAttr(n, "transA", 0) != 0) {
      throw new IllegalArgumentException("Gemm node '" + n.name() + "' with transA=1 is not supported");
    }
    Values y = matMul(get(env, n, 0), get(env, n, 1), intAttr(n, "transB", 0) != 0, floatAttr(n, "alpha", 1f), n);
    if (n.inputs().size() > 2 && !n.inputs().get(2).isEmpty()) {
      Values c = get(env, n, 2);
      double beta = floatAttr(n, "beta", 1f);
      double[] scaled = c.data().clone();
      for (int i = 0; i < scaled.length; i++) {
        scaled[i] *= beta;
      }
      y = broadcast(y, new Values(c.dims(), scaled), '+', n);
    }
    return y;
  }

  private static Values matMul(Values a, Values b, boolean transB, double alpha, OnnxNode n) {
    long[] da = a.dims();
    long[] db = b.dims();
    if (da.length != 2 || db.length != 2) {
      throw new IllegalArgumentException("node '" + n.name() + "' (" + n.opType() + ") multiplies "
          + Arrays.toString(da) + " by " + Arrays.toString(db) + "; only 2-D operands are supported");
    }
    int m = (int) da[0];
    int k = (int) da[1];
    int kb = (int) (transB ? db[1] : db[0]);
    int cols = (int) (transB ? db[0] : db[1]);
    if (k != kb) {
      throw new IllegalArgumentException("node '" + n.name() + "' (" + n.opType() + "): inner dimensions " + k + " and " + kb + " differ");
    }
    double[] x = a.data();
    double[] w = b.data();
    double[] out = new double[m * cols];
    for (int i = 0; i < m; i++) {
      for (int j = 0; j < cols; j++) {
        double s = 0;
        for (int t = 0; t < k; t++) {
          s += x[i * k + t] * (transB ? w[j * k + t] : w[t * cols + j]);
        }
        out[i * cols + j] = alpha * s;
      }
    }
    return new Values(new long[] {m, cols}, out);
  }

  private Values conv(OnnxNode n, Map<String, Values> env) {
    Values x = get(env, n, 0);
    Values w = get(env, n, 1);
    long[] dx = x.dims();
    long[] dw = w.dims();
    if (dx.length != 4 || dw.length != 4 || dx[0] != 1) {
      throw new IllegalArgumentException("Conv node '" + n.name() + "': only 2-D convolutions of one example are supported");
    }
    if (intAttr(n, "group", 1) != 1) {
      throw new IllegalArgumentException("Conv node '" + n.name() + "' with groups is not supported");
    }
    long[] dil = intsAttr(n, "dilations", new long[] {1, 1});
    if (dil.length != 2 || dil[0] != 1 || dil[1] != 1) {
      throw new IllegalArgumentException("Conv node '" + n.name() + "' with dilations is not supported");
    }
    int ci = (int) dx[1];
    int h = (int) dx[2];
    int wd = (int) dx[3];
    int co = (int) dw[0];
    int kh = (int) dw[2];
    int kw = (int) dw[3];
    if (dw[1] != ci) {
      throw new IllegalArgumentException("Conv node '" + n.name() + "': weights expect " + dw[1] + " channels, input has " + ci);
    }
    long[] st = intsAttr(n, "strides", new long[] {1, 1});
    long[] pads = pads(n, 2);
    int oh = (int) ((h + pads[0] + pads[2] - kh) / st[0] + 1);
    int ow = (int) ((wd + pads[1] + pads[3] - kw) / st[1] + 1);
    double[] bias = new double[co];
    if (n.inputs().size() > 2 && !n.inputs().get(2).isEmpty()) {
      bias = get(env, n, 2).data();
    }
    double[] in = x.data();
    double[] wt = w.data();
    double[] out = new double[co * oh * ow];
    for (int o = 0; o < co; o++) {
      for (int y = 0; y < oh; y++) {
        for (int z = 0; z < ow; z++) {
          double s = bias[o];
          for (int c = 0; c < ci; c++) {
            for (int ky = 0; ky < kh; ky++) {
              int iy = (int) (y * st[0] + ky - pads[0]);
              if (iy < 0 || iy >= h) {
                continue;
              }
              for (int kx = 0; kx < kw; kx++) {
                int ix = (int) (z * st[1] + kx - pads[1]);
                if (ix >= 0 && ix < wd) {
                  s += wt[((o * ci + c) * kh + ky) * kw + kx] * in[(c * h + iy) * wd + ix];
                }
              }
            }
          }
          out[(o * oh + y) * ow + z] = s;
        }
      }
    }
    return new Values(new long[] {1, co, oh, ow}, out);
  }

  /** Explicit pads [top, left, bottom, right]; auto_pad other than NOTSET or VALID is refused. */
  private static long[] pads(OnnxNode n, int spatial) {
    String auto = n.attribute("auto_pad").map(OnnxAttribute::asString).orElse("NOTSET");
    if (!auto.equals("NOTSET") && !auto.equals("VALID")) {
      throw new IllegalArgumentException("node '" + n.name() + "' (" + n.opType() + ") uses auto_pad " + auto
          + "; give explicit pads");
    }
    long[] p = intsAttr(n, "pads", new long[2 * spatial]);
    if (p.length != 2 * spatial) {
      throw new IllegalArgumentException("node '" + n.name() + "' has " + p.length + " pads, expected " + 2 * spatial);
    }
    return p;
  }

  private static Values pool(OnnxNode n, Values x, boolean max) {
    long[] d = x.dims();
    long[] k = intsAttr(n, "kernel_shape", null);
    if (d.length != 4 || d[0] != 1 || k == null || k.length != 2) {
      throw new IllegalArgumentException(n.opType() + " node '" + n.name() + "': only 2-D pooling of one example is supported");
    }
    if (intAttr(n, "ceil_mode", 0) != 0 || n.attribute("dilations").isPresent() && !Arrays.equals(n.attribute("dilations").get().asInts(), new long[] {1, 1})) {
      throw new IllegalArgumentException(n.opType() + " node '" + n.name() + "' with ceil_mode or dilations is not supported");
    }
    long[] st = intsAttr(n, "strides", new long[] {1, 1});
    long[] pads = pads(n, 2);
    boolean includePad = intAttr(n, "count_include_pad", 0) != 0;
    int c = (int) d[1];
    int h = (int) d[2];
    int w = (int) d[3];
    int oh = (int) ((h + pads[0] + pads[2] - k[0]) / st[0] + 1);
    int ow = (int) ((w + pads[1] + pads[3] - k[1]) / st[1] + 1);
    double[] in = x.data();
    double[] out = new double[c * oh * ow];
    for (int ch = 0; ch < c; ch++) {
      for (int y = 0; y < oh; y++) {
        for (int z = 0; z < ow; z++) {
          double acc = max ? Double.NEGATIVE_INFINITY : 0;
          int count = 0;
          for (int ky = 0; ky < k[0]; ky++) {
            for (int kx = 0; kx < k[1]; kx++) {
              int iy = (int) (y * st[0] + ky - pads[0]);
              int ix = (int) (z * st[1] + kx - pads[1]);
              if (iy < 0 || iy >= h || ix < 0 || ix >= w) {
                count += includePad ? 1 : 0;
                continue;
              }
              double v = in[(ch * h + iy) * w + ix];
              acc = max ? Math.max(acc, v) : acc + v;
              count++;
            }
          }
          out[(ch * oh + y) * ow + z] = max ? acc : acc / count;
        }
      }
    }
    return new Values(new long[] {1, c, oh, ow}, out);
  }

  private static Values reshape(Values x, Values shape, OnnxNode n) {
    double[] s = shape.data();
    long[] d = x.dims();
    long[] out = new long[s.length];
    int infer = -1;
    long known = 1;
    for (int i = 0; i < s.length; i++) {
      long v = (long) s[i];
      if (v == 0) {
        if (i >= d.length) {
          throw new IllegalArgumentException("Reshape node '" + n.name() + "' copies dimension " + i + ", which the input lacks");
        }
        v = d[i];
      }
      if (v == -1) {
        if (infer >= 0) {
          throw new IllegalArgumentException("Reshape node '" + n.name() + "' infers more than one dimension");
        }
        infer = i;
        continue;
      }
      if (v < 0) {
        throw new IllegalArgumentException("Reshape node '" + n.name() + "' has negative dimension " + v);
      }
      out[i] = v;
      known *= v;
    }
    int total = x.data().length;
    if (infer >= 0) {
      if (known == 0 || total % known != 0) {
        throw new IllegalArgumentException("Reshape node '" + n.name() + "' cannot infer a dimension of " + total + " values");
      }
      out[infer] = total / known;
    } else if (known != total) {
      throw new IllegalArgumentException("Reshape node '" + n.name() + "' to " + Arrays.toString(out) + " does not keep " + total + " values");
    }
    return new Values(out, x.data());
  }

  private static Values softmax(OnnxNode n, Values x) {
    long[] d = x.dims();
    int axis = (int) intAttr(n, "axis", -1);
    if (axis < 0) {
      axis += d.length;
    }
    if (axis != d.length - 1) {
      throw new IllegalArgumentException("Softmax node '" + n.name() + "' over axis " + axis + " of rank " + d.length
          + " is not supported; only the last axis");
    }
    int width = (int) d[d.length - 1];
    double[] y = x.data().clone();
    for (int row = 0; row < y.length / Math.max(width, 1); row++) {
      softmaxInPlace(y, row * width, width);
    }
    return new Values(d, y);
  }

  /** Softmax of {@code v[from .. from + n)} in place, shifted by the maximum (StrictMath.exp). */
  public static void softmaxInPlace(double[] v, int from, int n) {
    double max = Double.NEGATIVE_INFINITY;
    for (int i = from; i < from + n; i++) {
      max = Math.max(max, v[i]);
    }
    double sum = 0;
    for (int i = from; i < from + n; i++) {
      v[i] = StrictMath.exp(v[i] - max);
      sum += v[i];
    }
    for (int i = from; i < from + n; i++) {
      v[i] /= sum;
    }
  }

  /** Names of the values a model's nodes compute, in order (for callers that list them). */
  public List<String> valueNames() {
    List<String> out = new ArrayList<>();
    out.add(input.name());
    for (OnnxNode node : model.graph().nodes()) {
      out.add(node.outputs().get(0));
    }
    return out;
  }
}
