package dev.verity.exec;

import dev.verity.onnx.OnnxAttribute;
import dev.verity.onnx.OnnxNode;
import java.util.Arrays;

/**
 * The canonical operator implementations. Every rule that fixes a bit of the result is stated in
 * docs/EXECUTOR.md; the short version: float32 throughout, sums accumulate left to right in the
 * order written here with {@link Math#fma(float, float, float)} (one rounding per step),
 * transcendental functions through {@link StrictMath} in double then rounded once to float32.
 */
final class Operators {
  private Operators() {}

  /** A node ready to run: its operator, attributes, and the opset it was written against. */
  static Value apply(OnnxNode node, Value[] in, long opset, Workers workers, TransposeCache cache) {
    return switch (node.opType()) {
      case "Gemm" -> gemm(node, in, workers, cache);
      case "MatMul" -> matMul(node, in[0], in[1], workers);
      case "Conv" -> conv(node, in, workers);
      case "Relu", "LeakyRelu", "Sigmoid", "Tanh" -> unary(node, in[0]);
      case "Softmax" -> softmax(node, in[0], opset);
      case "Add", "Sub", "Mul", "Div" -> binary(node, in[0], in[1]);
      case "Reshape" -> reshape(node, in[0], in[1]);
      case "Flatten" -> flatten(node, in[0]);
      case "Transpose" -> transpose(node, in[0]);
      case "Concat" -> concat(node, in);
      case "MaxPool", "AveragePool" -> pool(node, in[0]);
      case "GlobalAveragePool" -> globalAveragePool(node, in[0]);
      case "BatchNormalization" -> batchNorm(node, in);
      case "Gather" -> gather(node, in[0], in[1]);
      case "Unsqueeze" -> unsqueeze(node, in, opset);
      case "Squeeze" -> squeeze(node, in, opset);
      case "Clip" -> clip(node, in, opset);
      default -> throw new UnsupportedOperatorException(java.util.List.of(node.qualifiedOpType()));
    };
  }

  /**
   * The rows of a matrix used as the right operand of a product (after transposing it when
   * {@code transposed}); an executor keeps those of constant matrices.
   */
  interface TransposeCache {
    float[][] rows(Value matrix, boolean transposed);

    /** Computes them afresh every time. */
    static float[][] compute(Value m, boolean transposed) {
      int r = m.shape[0];
      int c = m.shape[1];
      return transposed ? rowsOf(transpose2d(m.f, r, c), 0, c, r) : rowsOf(m.f, 0, r, c);
    }
  }

  // ---------------------------------------------------------------- attributes and checks

  static ExecutionException fail(OnnxNode node, String what) {
    return new ExecutionException("node '" + node.name() + "' (" + node.opType() + "): " + what);
  }

  static long attrInt(OnnxNode node, String name, long dflt) {
    return node.attribute(name).map(OnnxAttribute::asInt).orElse(dflt);
  }

  static float attrFloat(OnnxNode node, String name, float dflt) {
    return node.attribute(name).map(OnnxAttribute::asFloat).orElse(dflt);
  }

  static long[] attrInts(OnnxNode node, String name) {
    return node.attribute(name).map(OnnxAttribute::asInts).orElse(null);
  }

  static String attrString(OnnxNode node, String name, String dflt) {
    return node.attribute(name).map(OnnxAttribute::asString).orElse(dflt);
  }

  static float[] floats(OnnxNode node, Value v, String what) {
    if (v == null || !v.isFloat()) {
      throw fail(node, what + " must be a float32 tensor");
    }
    return v.f;
  }

  static long[] longs(OnnxNode node, Value v, String what) {
    if (v == null || v.isFloat()) {
      throw fail(node, what + " must be an int64 tensor");
    }
    return v.l;
  }

  static int axis(OnnxNode node, long axis, int rank) {
    long a = axis < 0 ? axis + rank : axis;
    if (a < 0 || a >= rank) {
      throw fail(node, "axis " + axis + " is outside a tensor of rank " + rank);
    }
    return (int) a;
  }

  // ---------------------------------------------------------------- element-wise

  /** Relu, LeakyRelu, Sigmoid and Tanh, each in its own loop. */
  static Value unary(OnnxNode node, Value xv) {
    float[] x = floats(node, xv, "input");
    float[] out = new float[x.length];
    switch (node.opType()) {
      case "Relu" -> {
        for (int i = 0; i < x.length; i++) {
          out[i] = x[i] < 0f ? 0f : x[i];
        }
      }
      case "LeakyRelu" -> {
        float alpha = attrFloat(node, "alpha", 0.01f);
        for (int i = 0; i < x.length; i++) {
          out[i] = x[i] < 0f ? alpha * x[i] : x[i];
        }
      }
      case "Sigmoid" -> {
        for (int i = 0; i < x.length; i++) {
          out[i] = (float) (1.0 / (1.0 + StrictMath.exp(-(double) x[i])));
        }
      }
      default -> {
        for (int i = 0; i < x.length; i++) {
          out[i] = (float) StrictMath.tanh(x[i]);
        }
      }
    }
    return Value.ofFloats(xv.shape, out);
  }

  interface FloatOp {
    float apply(float x);
  }

  static Value map(OnnxNode node, Value x, FloatOp op) {
    float[] a = floats(node, x, "input");
    float[] out = new float[a.length];
    for (int i = 0; i < a.length; i++) {
      out[i] = op.apply(a[i]);
    }
    return Value.ofFloats(x.shape, out);
  }

  static Value clip(OnnxNode node, Value[] in, long opset) {
    float lo;
    float hi;
    if (opset < 11) {
      lo = attrFloat(node, "min", Float.NEGATIVE_INFINITY);
      hi = attrFloat(node, "max", Float.POSITIVE_INFINITY);
    } else {
      lo = in.length > 1 && in[1] != null ? scalar(node, in[1], "min") : Float.NEGATIVE_INFINITY;
      hi = in.length > 2 && in[2] != null ? scalar(node, in[2], "max") : Float.POSITIVE_INFINITY;
    }
    return map(node, in[0], x -> {
      float y = x;
      if (y < lo) {
        y = lo;
      }
      if (y > hi) {
        y = hi;
      }
      return y;
    });
  }

  static float scalar(OnnxNode node, Value v, String what) {
    float[] f = floats(node, v, what);
    if (f.length != 1) {
      throw fail(node, what + " must be a single value, got shape " + Arrays.toString(v.shape));
    }
    return f[0];
  }

  static int[] broadcast(OnnxNode node, int[] a, int[] b) {
    int r = Math.max(a.length, b.length);
    int[] out = new int[r];
    for (int i = 0; i < r; i++) {
      int da = i - (r - a.length) >= 0 ? a[i - (r - a.length)] : 1;
      int db = i - (r - b.length) >= 0 ? b[i - (r - b.length)] : 1;
      if (da != db && da != 1 && db != 1) {
        throw fail(node, "shapes " + Arrays.toString(a) + " and " + Arrays.toString(b)
            + " do not broadcast");
      }
      out[i] = da == 1 ? db : da;
    }
    return out;
  }

  /** Element strides of {@code shape} aligned to an output of rank {@code r}; 0 on broadcast axes. */
  static int[] broadcastStrides(int[] shape, int[] out) {
    int r = out.length;
    int[] s = new int[r];
    int stride = 1;
    for (int i = shape.length - 1; i >= 0; i--) {
      int o = i + r - shape.length;
      s[o] = shape[i] == 1 && out[o] != 1 ? 0 : stride;
      stride *= shape[i];
    }
    return s;
  }

  static float op(int code, float x, float y) {
    return switch (code) {
      case 0 -> x + y;
      case 1 -> x - y;
      case 2 -> x * y;
      default -> x / y;
    };
  }

  static Value binary(OnnxNode node, Value x, Value y) {
    float[] a = floats(node, x, "input A");
    float[] b = floats(node, y, "input B");
    int code = switch (node.opType()) {
      case "Add" -> 0;
      case "Sub" -> 1;
      case "Mul" -> 2;
      default -> 3;
    };
    int[] shape = broadcast(node, x.shape, y.shape);
    float[] out = new float[Value.count(shape)];
    if (Arrays.equals(x.shape, shape) && Arrays.equals(y.shape, shape)) {
      for (int i = 0; i < out.length; i++) {
        out[i] = op(code, a[i], b[i]);
      }
    } else if (b.length == 1 && Arrays.equals(x.shape, shape)) {
      float c = b[0];
      for (int i = 0; i < out.length; i++) {
        out[i] = op(code, a[i], c);
      }
    } else {
      int r = shape.length;
      int[] sa = broadcastStrides(x.shape, shape);
      int[] sb = broadcastStrides(y.shape, shape);
      int[] idx = new int[r];
      int inner = r == 0 ? 1 : shape[r - 1];
      int ia0 = 0;
      int ib0 = 0;
      int sai = r == 0 ? 0 : sa[r - 1];
      int sbi = r == 0 ? 0 : sb[r - 1];
      for (int o = 0; o < out.length; o += inner) {
        int ia = ia0;
        int ib = ib0;
        for (int j = 0; j < inner; j++, ia += sai, ib += sbi) {
          out[o + j] = op(code, a[ia], b[ib]);
        }
        for (int d = r - 2; d >= 0; d--) {
          idx[d]++;
          ia0 += sa[d];
          ib0 += sb[d];
          if (idx[d] < shape[d]) {
            break;
          }
          ia0 -= sa[d] * shape[d];
          ib0 -= sb[d] * shape[d];
          idx[d] = 0;
        }
      }
    }
    return Value.ofFloats(shape, out);
  }

  // ---------------------------------------------------------------- matrix products

  /**
   * The one dot-product kernel: {@code c[i][j] = fma(a[i][k], b[k][j], c[i][j])} for k = 0..K-1 in
   * order, starting from +0, for rows {@code [i0, i1)} and columns {@code [j0, j1)}. Each output
   * element is one left-to-right chain of fused multiply-adds whatever the split or blocking.
   * {@code b} is given as its K rows so that every inner loop indexes its arrays alike, which lets
   * the JIT compile it to vector instructions (lanes are independent outputs, never parts of one
   * sum).
   */
  static void matmul(float[] a, int aOff, float[][] b, float[] c, int cOff,
      int kk, int n, int i0, int i1, int j0, int j1) {
    float[] r0 = new float[n];
    float[] r1 = new float[n];
    float[] r2 = new float[n];
    float[] r3 = new float[n];
    for (int i = i0; i < i1; i += 4) {
      int rows = Math.min(4, i1 - i);
      Arrays.fill(r0, j0, j1, 0f);
      Arrays.fill(r1, j0, j1, 0f);
      Arrays.fill(r2, j0, j1, 0f);
      Arrays.fill(r3, j0, j1, 0f);
      int a0 = aOff + i * kk;
      if (rows == 4) {
        for (int k = 0; k < kk; k++) {
          float[] br = b[k];
          float x0 = a[a0 + k];
          float x1 = a[a0 + kk + k];
          float x2 = a[a0 + 2 * kk + k];
          float x3 = a[a0 + 3 * kk + k];
          for (int j = j0; j < j1; j++) {
            float bv = br[j];
            r0[j] = Math.fma(x0, bv, r0[j]);
            r1[j] = Math.fma(x1, bv, r1[j]);
            r2[j] = Math.fma(x2, bv, r2[j]);
            r3[j] = Math.fma(x3, bv, r3[j]);
          }
        }
      } else {
        float[][] acc = {r0, r1, r2};
        for (int r = 0; r < rows; r++) {
          float[] row = acc[r];
          int ar = a0 + r * kk;
          for (int k = 0; k < kk; k++) {
            float[] br = b[k];
            float x = a[ar + k];
            for (int j = j0; j < j1; j++) {
              row[j] = Math.fma(x, br[j], row[j]);
            }
          }
        }
      }
      float[][] acc = {r0, r1, r2, r3};
      for (int r = 0; r < rows; r++) {
        System.arraycopy(acc[r], j0, c, cOff + (i + r) * n + j0, j1 - j0);
      }
    }
  }

  /** The K rows of a K x N matrix stored row-major from {@code off}. */
  static float[][] rowsOf(float[] m, int off, int k, int n) {
    float[][] rows = new float[k][];
    for (int r = 0; r < k; r++) {
      rows[r] = Arrays.copyOfRange(m, off + r * n, off + r * n + n);
    }
    return rows;
  }

  static void matmulSplit(float[] a, int aOff, float[][] b, float[] c, int cOff,
      int m, int kk, int n, Workers workers) {
    long work = (long) m * kk * n;
    if (m >= 4 * workers.threads()) {
      int blocks = (m + 3) / 4;
      workers.split(blocks, work, (from, to) ->
          matmul(a, aOff, b, c, cOff, kk, n, from * 4, Math.min(m, to * 4), 0, n));
    } else {
      workers.split(n, work, (from, to) -> matmul(a, aOff, b, c, cOff, kk, n, 0, m, from, to));
    }
  }

  static float[] transpose2d(float[] src, int rows, int cols) {
    float[] t = new float[src.length];
    for (int r = 0; r < rows; r++) {
      for (int c = 0; c < cols; c++) {
        t[c * rows + r] = src[r * cols + c];
      }
    }
    return t;
  }

  static Value gemm(OnnxNode node, Value[] in, Workers workers, TransposeCache cache) {
    Value av = in[0];
    Value bv = in[1];
    floats(node, av, "A");
    floats(node, bv, "B");
    if (av.rank() != 2 || bv.rank() != 2) {
      throw fail(node, "A and B must be matrices, got shapes " + Arrays.toString(av.shape)
          + " and " + Arrays.toString(bv.shape));
    }
    boolean ta = attrInt(node, "transA", 0) != 0;
    boolean tb = attrInt(node, "transB", 0) != 0;
    float alpha = attrFloat(node, "alpha", 1f);
    float beta = attrFloat(node, "beta", 1f);
    int m = ta ? av.shape[1] : av.shape[0];
    int kk = ta ? av.shape[0] : av.shape[1];
    int kb = tb ? bv.shape[1] : bv.shape[0];
    int n = tb ? bv.shape[0] : bv.shape[1];
    if (kk != kb) {
      throw fail(node, "inner dimensions differ: A gives " + kk + ", B gives " + kb);
    }
    float[] a = ta ? transpose2d(av.f, av.shape[0], av.shape[1]) : av.f;
    float[][] b = cache.rows(bv, tb);
    float[] out = new float[m * n];
    matmulSplit(a, 0, b, out, 0, m, kk, n, workers);
    Value cv = in.length > 2 ? in[2] : null;
    if (cv != null) {
      float[] c = floats(node, cv, "C");
      int[] target = {m, n};
      if (!Arrays.equals(broadcast(node, cv.shape, target), target)) {
        throw fail(node, "C of shape " + Arrays.toString(cv.shape) + " does not broadcast to "
            + Arrays.toString(target));
      }
      int[] s = broadcastStrides(cv.shape, target);
      for (int i = 0; i < m; i++) {
        for (int j = 0; j < n; j++) {
          out[i * n + j] = alpha * out[i * n + j] + beta * c[i * s[0] + j * s[1]];
        }
      }
    } else {
      for (int i = 0; i < out.length; i++) {
        out[i] = alpha * out[i];
      }
    }
    return Value.ofFloats(new int[] {m, n}, out);
  }

  static Value matMul(OnnxNode node, Value x, Value y, Workers workers) {
    float[] a = floats(node, x, "A");
    float[] b = floats(node, y, "B");
    if (x.rank() == 0 || y.rank() == 0) {
      throw fail(node, "MatMul needs tensors of rank 1 or more");
    }
    int[] as = x.rank() == 1 ? new int[] {1, x.shape[0]} : x.shape;
    int[] bs = y.rank() == 1 ? new int[] {y.shape[0], 1} : y.shape;
    int m = as[as.length - 2];
    int kk = as[as.length - 1];
    int n = bs[bs.length - 1];
    if (bs[bs.length - 2] != kk) {
      throw fail(node, "inner dimensions differ: " + Arrays.toString(x.shape) + " x "
          + Arrays.toString(y.shape));
    }
    int[] ab = Arrays.copyOf(as, as.length - 2);
    int[] bb = Arrays.copyOf(bs, bs.length - 2);
    int[] batch = broadcast(node, ab, bb);
    int batches = Value.count(batch);
    int[] sa = broadcastStrides(ab, batch);
    int[] sb = broadcastStrides(bb, batch);
    float[] out = new float[batches * m * n];
    int[] idx = new int[batch.length];
    for (int t = 0; t < batches; t++) {
      int oa = 0;
      int ob = 0;
      for (int d = 0; d < batch.length; d++) {
        oa += idx[d] * sa[d];
        ob += idx[d] * sb[d];
      }
      matmulSplit(a, oa * m * kk, rowsOf(b, ob * kk * n, kk, n), out, t * m * n, m, kk, n,
          workers);
      for (int d = batch.length - 1; d >= 0; d--) {
        if (++idx[d] < batch[d]) {
          break;
        }
        idx[d] = 0;
      }
    }
    int[] shape = Arrays.copyOf(batch, batch.length + 2);
    shape[batch.length] = m;
    shape[batch.length + 1] = n;
    if (x.rank() == 1 && y.rank() == 1) {
      shape = batch;
    } else if (x.rank() == 1) {
      shape = concatDims(batch, new int[] {n});
    } else if (y.rank() == 1) {
      shape = concatDims(batch, new int[] {m});
    }
    return Value.ofFloats(shape, out);
  }

  static int[] concatDims(int[] a, int[] b) {
    int[] r = Arrays.copyOf(a, a.length + b.length);
    System.arraycopy(b, 0, r, a.length, b.length);
    return r;
  }

  // ---------------------------------------------------------------- convolution and pooling

  /** Spatial geometry of a 2-D window operator: output size, padding, strides, dilations. */
  record Window(int kh, int kw, int sh, int sw, int dh, int dw, int pt, int pl, int pb, int pr,
      int oh, int ow) {}

  static Window window(OnnxNode node, int h, int w, int kh, int kw, boolean ceil) {
    long[] strides = attrInts(node, "strides");
    long[] dil = attrInts(node, "dilations");
    long[] pads = attrInts(node, "pads");
    String autoPad = attrString(node, "auto_pad", "NOTSET");
    int sh = strides == null ? 1 : (int) strides[0];
    int sw = strides == null ? 1 : (int) strides[1];
    int dh = dil == null ? 1 : (int) dil[0];
    int dw = dil == null ? 1 : (int) dil[1];
    if (sh < 1 || sw < 1 || dh < 1 || dw < 1) {
      throw fail(node, "strides and dilations must be positive");
    }
    int ekh = (kh - 1) * dh + 1;
    int ekw = (kw - 1) * dw + 1;
    int pt;
    int pl;
    int pb;
    int pr;
    switch (autoPad) {
      case "NOTSET" -> {
        if (pads != null && pads.length != 4) {
          throw fail(node, "pads must have 4 entries for a 2-D window, got " + pads.length);
        }
        pt = pads == null ? 0 : (int) pads[0];
        pl = pads == null ? 0 : (int) pads[1];
        pb = pads == null ? 0 : (int) pads[2];
        pr = pads == null ? 0 : (int) pads[3];
      }
      case "VALID" -> {
        pt = 0;
        pl = 0;
        pb = 0;
        pr = 0;
      }
      case "SAME_UPPER", "SAME_LOWER" -> {
        int oh = (h + sh - 1) / sh;
        int ow = (w + sw - 1) / sw;
        int th = Math.max(0, (oh - 1) * sh + ekh - h);
        int tw = Math.max(0, (ow - 1) * sw + ekw - w);
        boolean upper = autoPad.equals("SAME_UPPER");
        pt = upper ? th / 2 : th - th / 2;
        pl = upper ? tw / 2 : tw - tw / 2;
        pb = th - pt;
        pr = tw - pl;
      }
      default -> throw fail(node, "unknown auto_pad '" + autoPad + "'");
    }
    if (pt < 0 || pl < 0 || pb < 0 || pr < 0) {
      throw fail(node, "pads must not be negative");
    }
    int oh = outSize(h + pt + pb, ekh, sh, ceil, h + pt);
    int ow = outSize(w + pl + pr, ekw, sw, ceil, w + pl);
    if (oh < 1 || ow < 1) {
      throw fail(node, "the window does not fit the input of " + h + "x" + w);
    }
    return new Window(kh, kw, sh, sw, dh, dw, pt, pl, pb, pr, oh, ow);
  }

  static int outSize(int padded, int ek, int s, boolean ceil, int lastStart) {
    if (padded < ek) {
      return 0;
    }
    int o = ceil ? (padded - ek + s - 1) / s + 1 : (padded - ek) / s + 1;
    if (ceil && (o - 1) * s >= lastStart) {
      o--;
    }
    return o;
  }

  static int[] spatial4(OnnxNode node, Value x) {
    if (x.rank() != 4) {
      throw fail(node, "the canonical executor runs 2-D windows on NCHW tensors only, got shape "
          + Arrays.toString(x.shape));
    }
    return x.shape;
  }

  static Value conv(OnnxNode node, Value[] in, Workers workers) {
    float[] x = floats(node, in[0], "X");
    float[] w = floats(node, in[1], "W");
    float[] bias = in.length > 2 && in[2] != null ? floats(node, in[2], "B") : null;
    int[] xs = spatial4(node, in[0]);
    int[] ws = in[1].shape;
    if (ws.length != 4) {
      throw fail(node, "W must have rank 4, got " + Arrays.toString(ws));
    }
    int batch = xs[0];
    int c = xs[1];
    int h = xs[2];
    int wd = xs[3];
    int m = ws[0];
    int group = (int) attrInt(node, "group", 1);
    if (group < 1 || c % group != 0 || m % group != 0 || ws[1] != c / group) {
      throw fail(node, "channels do not fit: X has " + c + ", W has shape " + Arrays.toString(ws)
          + ", group " + group);
    }
    long[] ks = attrInts(node, "kernel_shape");
    if (ks != null && (ks.length != 2 || ks[0] != ws[2] || ks[1] != ws[3])) {
      throw fail(node, "kernel_shape " + Arrays.toString(ks) + " does not match W");
    }
    if (bias != null && bias.length != m) {
      throw fail(node, "B has " + bias.length + " values for " + m + " output channels");
    }
    Window g = window(node, h, wd, ws[2], ws[3], false);
    int cg = c / group;
    int mg = m / group;
    int plane = g.oh() * g.ow();
    int kk = cg * g.kh() * g.kw();
    float[] out = new float[batch * m * plane];
    for (int n = 0; n < batch; n++) {
      for (int gr = 0; gr < group; gr++) {
        float[][] col = columns(x, n, c, h, wd, gr * cg, cg, g);
        int outOff = (n * m + gr * mg) * plane;
        matmulSplit(w, gr * mg * kk, col, out, outOff, mg, kk, plane, workers);
      }
    }
    if (bias != null) {
      for (int nm = 0; nm < batch * m; nm++) {
        float bv = bias[nm % m];
        for (int i = nm * plane; i < (nm + 1) * plane; i++) {
          out[i] = out[i] + bv;
        }
      }
    }
    return Value.ofFloats(new int[] {batch, m, g.oh(), g.ow()}, out);
  }

  /**
   * The convolution's input patches as rows: row {@code (ic * kh + ky) * kw + kx} holds, for every
   * output position, the input element under kernel tap (ky, kx) of channel {@code ic}, or +0.0
   * where the tap falls on padding. A convolution output is then the fused multiply-add chain over
   * these rows in order, as in {@link #matmul}.
   */
  static float[][] columns(float[] x, int n, int c, int h, int wd, int c0, int cg, Window g) {
    int plane = g.oh() * g.ow();
    float[][] col = new float[cg * g.kh() * g.kw()][];
    int r = 0;
    for (int ic = 0; ic < cg; ic++) {
      int xPlane = (n * c + c0 + ic) * h * wd;
      for (int ky = 0; ky < g.kh(); ky++) {
        for (int kx = 0; kx < g.kw(); kx++) {
          float[] row = new float[plane];
          int offX = kx * g.dw() - g.pl();
          int owLo = Math.max(0, ceilDiv(-offX, g.sw()));
          int owHi = Math.min(g.ow(), Math.floorDiv(wd - 1 - offX, g.sw()) + 1);
          for (int oy = 0; oy < g.oh(); oy++) {
            int iy = oy * g.sh() - g.pt() + ky * g.dh();
            if (iy < 0 || iy >= h) {
              continue;
            }
            int src = xPlane + iy * wd + offX;
            int dst = oy * g.ow();
            for (int ox = owLo; ox < owHi; ox++) {
              row[dst + ox] = x[src + ox * g.sw()];
            }
          }
          col[r++] = row;
        }
      }
    }
    return col;
  }

  static int ceilDiv(int a, int b) {
    return -Math.floorDiv(-a, b);
  }

  static Value pool(OnnxNode node, Value xv) {
    float[] x = floats(node, xv, "X");
    int[] xs = spatial4(node, xv);
    long[] ks = attrInts(node, "kernel_shape");
    if (ks == null || ks.length != 2) {
      throw fail(node, "kernel_shape must give 2 sizes");
    }
    boolean max = node.opType().equals("MaxPool");
    if (max && attrInt(node, "storage_order", 0) != 0) {
      throw fail(node, "storage_order 1 is not supported");
    }
    if (node.outputs().size() > 1 && !node.outputs().get(1).isEmpty()) {
      throw fail(node, "the Indices output of MaxPool is not supported");
    }
    boolean includePad = attrInt(node, "count_include_pad", 0) != 0;
    Window g = window(node, xs[2], xs[3], (int) ks[0], (int) ks[1],
        attrInt(node, "ceil_mode", 0) != 0);
    int h = xs[2];
    int w = xs[3];
    int planes = xs[0] * xs[1];
    float[] out = new float[planes * g.oh() * g.ow()];
    int o = 0;
    for (int p = 0; p < planes; p++) {
      int base = p * h * w;
      for (int oy = 0; oy < g.oh(); oy++) {
        for (int ox = 0; ox < g.ow(); ox++) {
          float acc = max ? Float.NEGATIVE_INFINITY : 0f;
          int count = 0;
          int padCount = 0;
          for (int ky = 0; ky < g.kh(); ky++) {
            int iy = oy * g.sh() - g.pt() + ky * g.dh();
            for (int kx = 0; kx < g.kw(); kx++) {
              int ix = ox * g.sw() - g.pl() + kx * g.dw();
              if (iy >= -g.pt() && iy < h + g.pb() && ix >= -g.pl() && ix < w + g.pr()) {
                padCount++;
              }
              if (iy < 0 || iy >= h || ix < 0 || ix >= w) {
                continue;
              }
              float v = x[base + iy * w + ix];
              count++;
              if (max) {
                if (v > acc) {
                  acc = v;
                }
              } else {
                acc = acc + v;
              }
            }
          }
          out[o++] = max ? acc : acc / (float) (includePad ? padCount : count);
        }
      }
    }
    return Value.ofFloats(new int[] {xs[0], xs[1], g.oh(), g.ow()}, out);
  }

  static Value globalAveragePool(OnnxNode node, Value xv) {
    float[] x = floats(node, xv, "X");
    if (xv.rank() < 3) {
      throw fail(node, "X must have rank 3 or more, got " + Arrays.toString(xv.shape));
    }
    int planes = xv.shape[0] * xv.shape[1];
    int size = x.length / Math.max(1, planes);
    float[] out = new float[planes];
    for (int p = 0; p < planes; p++) {
      float acc = 0f;
      for (int i = 0; i < size; i++) {
        acc = acc + x[p * size + i];
      }
      out[p] = acc / (float) size;
    }
    int[] shape = new int[xv.rank()];
    Arrays.fill(shape, 1);
    shape[0] = xv.shape[0];
    shape[1] = xv.shape[1];
    return Value.ofFloats(shape, out);
  }

  static Value batchNorm(OnnxNode node, Value[] in) {
    float[] x = floats(node, in[0], "X");
    if (in.length < 5 || node.outputs().stream().skip(1).anyMatch(s -> !s.isEmpty())) {
      throw fail(node, "only inference mode (5 inputs, 1 output) is supported");
    }
    if (attrInt(node, "training_mode", 0) != 0) {
      throw fail(node, "training_mode is not supported");
    }
    float[] scale = floats(node, in[1], "scale");
    float[] b = floats(node, in[2], "B");
    float[] mean = floats(node, in[3], "input_mean");
    float[] var = floats(node, in[4], "input_var");
    float eps = attrFloat(node, "epsilon", 1e-5f);
    if (in[0].rank() < 2) {
      throw fail(node, "X must have rank 2 or more");
    }
    int c = in[0].shape[1];
    if (scale.length != c || b.length != c || mean.length != c || var.length != c) {
      throw fail(node, "scale, B, mean and var must each have " + c + " values");
    }
    int inner = x.length / Math.max(1, in[0].shape[0] * c);
    float[] out = new float[x.length];
    float[] k = new float[c];
    for (int ch = 0; ch < c; ch++) {
      k[ch] = scale[ch] / (float) Math.sqrt(var[ch] + eps);
    }
    for (int i = 0; i < x.length; i++) {
      int ch = (i / inner) % c;
      out[i] = (x[i] - mean[ch]) * k[ch] + b[ch];
    }
    return Value.ofFloats(in[0].shape, out);
  }

  static Value softmax(OnnxNode node, Value xv, long opset) {
    float[] x = floats(node, xv, "input");
    int r = xv.rank();
    int ax = axis(node, attrInt(node, "axis", opset >= 13 ? -1 : 1), Math.max(r, 1));
    int outer = 1;
    for (int i = 0; i < ax; i++) {
      outer *= xv.shape[i];
    }
    int len;
    int inner;
    if (opset >= 13) {
      len = r == 0 ? 1 : xv.shape[ax];
      inner = x.length / Math.max(1, outer * len);
    } else {
      len = x.length / Math.max(1, outer);
      inner = 1;
    }
    float[] out = new float[x.length];
    for (int o = 0; o < outer; o++) {
      for (int in = 0; in < inner; in++) {
        int base = o * len * inner + in;
        float m = Float.NEGATIVE_INFINITY;
        for (int i = 0; i < len; i++) {
          float v = x[base + i * inner];
          if (v > m) {
            m = v;
          }
        }
        float sum = 0f;
        for (int i = 0; i < len; i++) {
          float e = (float) StrictMath.exp(x[base + i * inner] - m);
          out[base + i * inner] = e;
          sum = sum + e;
        }
        for (int i = 0; i < len; i++) {
          out[base + i * inner] = out[base + i * inner] / sum;
        }
      }
    }
    return Value.ofFloats(xv.shape, out);
  }

  // ---------------------------------------------------------------- data movement

  static Value reshape(OnnxNode node, Value x, Value shapeValue) {
    long[] target = longs(node, shapeValue, "shape");
    boolean allowZero = attrInt(node, "allowzero", 0) != 0;
    int[] shape = new int[target.length];
    int infer = -1;
    long known = 1;
    for (int i = 0; i < target.length; i++) {
      long d = target[i];
      if (d == -1) {
        if (infer >= 0) {
          throw fail(node, "shape " + Arrays.toString(target) + " has more than one -1");
        }
        infer = i;
        continue;
      }
      if (d == 0 && !allowZero) {
        if (i >= x.rank()) {
          throw fail(node, "shape " + Arrays.toString(target) + " copies a dimension the input lacks");
        }
        d = x.shape[i];
      }
      if (d < 0 || d > Integer.MAX_VALUE) {
        throw fail(node, "invalid dimension " + d + " in shape " + Arrays.toString(target));
      }
      shape[i] = (int) d;
      known *= d;
    }
    if (infer >= 0) {
      if (known == 0 || x.size() % known != 0) {
        throw fail(node, "cannot infer -1 in " + Arrays.toString(target) + " for "
            + x.size() + " elements");
      }
      shape[infer] = (int) (x.size() / known);
    }
    if (Value.count(shape) != x.size()) {
      throw fail(node, "cannot reshape " + Arrays.toString(x.shape) + " to "
          + Arrays.toString(shape));
    }
    return x.reshaped(shape);
  }

  static Value flatten(OnnxNode node, Value x) {
    int r = x.rank();
    long a = attrInt(node, "axis", 1);
    int ax = (int) (a < 0 ? a + r : a);
    if (ax < 0 || ax > r) {
      throw fail(node, "axis " + a + " is outside [-" + r + ", " + r + "]");
    }
    int outer = 1;
    for (int i = 0; i < ax; i++) {
      outer *= x.shape[i];
    }
    return x.reshaped(new int[] {outer, outer == 0 ? 0 : x.size() / outer});
  }

  /** Copies elements {@code src[map[i]]} into a fresh value of {@code shape}. */
  static Value gatherIndices(Value x, int[] map, int[] shape) {
    if (x.isFloat()) {
      float[] out = new float[map.length];
      for (int i = 0; i < map.length; i++) {
        out[i] = x.f[map[i]];
      }
      return Value.ofFloats(shape, out);
    }
    long[] out = new long[map.length];
    for (int i = 0; i < map.length; i++) {
      out[i] = x.l[map[i]];
    }
    return Value.ofLongs(shape, out);
  }

  static int[] strides(int[] shape) {
    int[] s = new int[shape.length];
    int st = 1;
    for (int i = shape.length - 1; i >= 0; i--) {
      s[i] = st;
      st *= shape[i];
    }
    return s;
  }

  static Value transpose(OnnxNode node, Value x) {
    int r = x.rank();
    long[] permAttr = attrInts(node, "perm");
    int[] perm = new int[r];
    boolean[] seen = new boolean[r];
    for (int i = 0; i < r; i++) {
      long p = permAttr == null ? r - 1 - i : permAttr[i];
      if (permAttr != null && permAttr.length != r || p < 0 || p >= r || seen[(int) p]) {
        throw fail(node, "perm " + Arrays.toString(permAttr) + " is not a permutation of " + r
            + " axes");
      }
      seen[(int) p] = true;
      perm[i] = (int) p;
    }
    int[] shape = new int[r];
    int[] src = strides(x.shape);
    int[] st = new int[r];
    for (int i = 0; i < r; i++) {
      shape[i] = x.shape[perm[i]];
      st[i] = src[perm[i]];
    }
    int[] map = new int[x.size()];
    int[] idx = new int[r];
    int off = 0;
    for (int o = 0; o < map.length; o++) {
      map[o] = off;
      for (int d = r - 1; d >= 0; d--) {
        idx[d]++;
        off += st[d];
        if (idx[d] < shape[d]) {
          break;
        }
        off -= st[d] * shape[d];
        idx[d] = 0;
      }
    }
    return gatherIndices(x, map, shape);
  }

  static Value concat(OnnxNode node, Value[] in) {
    if (in.length == 0 || in[0] == null) {
      throw fail(node, "needs at least one input");
    }
    int r = in[0].rank();
    int ax = axis(node, node.attribute("axis").orElseThrow(
        () -> fail(node, "the axis attribute is required")).asInt(), r);
    boolean isFloat = in[0].isFloat();
    int[] shape = in[0].shape.clone();
    shape[ax] = 0;
    for (Value v : in) {
      if (v == null || v.isFloat() != isFloat || v.rank() != r) {
        throw fail(node, "inputs must share element type and rank");
      }
      for (int d = 0; d < r; d++) {
        if (d != ax && v.shape[d] != in[0].shape[d]) {
          throw fail(node, "input shapes " + Arrays.toString(in[0].shape) + " and "
              + Arrays.toString(v.shape) + " differ off the concatenation axis");
        }
      }
      shape[ax] += v.shape[ax];
    }
    int outer = 1;
    for (int d = 0; d < ax; d++) {
      outer *= shape[d];
    }
    int inner = Value.count(shape) / Math.max(1, outer * shape[ax]);
    int total = Value.count(shape);
    float[] fo = isFloat ? new float[total] : null;
    long[] lo = isFloat ? null : new long[total];
    int pos = 0;
    for (int o = 0; o < outer; o++) {
      for (Value v : in) {
        int chunk = v.shape[ax] * inner;
        if (isFloat) {
          System.arraycopy(v.f, o * chunk, fo, pos, chunk);
        } else {
          System.arraycopy(v.l, o * chunk, lo, pos, chunk);
        }
        pos += chunk;
      }
    }
    return isFloat ? Value.ofFloats(shape, fo) : Value.ofLongs(shape, lo);
  }

  static Value gather(OnnxNode node, Value data, Value indices) {
    long[] ind = longs(node, indices, "indices");
    int r = data.rank();
    if (r == 0) {
      throw fail(node, "data must have rank 1 or more");
    }
    int ax = axis(node, attrInt(node, "axis", 0), r);
    int dim = data.shape[ax];
    int outer = 1;
    for (int d = 0; d < ax; d++) {
      outer *= data.shape[d];
    }
    int inner = data.size() / Math.max(1, outer * dim);
    int[] shape = concatDims(concatDims(Arrays.copyOf(data.shape, ax), indices.shape),
        Arrays.copyOfRange(data.shape, ax + 1, r));
    int[] map = new int[Value.count(shape)];
    int o = 0;
    for (int a = 0; a < outer; a++) {
      for (long raw : ind) {
        long i = raw < 0 ? raw + dim : raw;
        if (i < 0 || i >= dim) {
          throw fail(node, "index " + raw + " is outside an axis of size " + dim);
        }
        int src = (int) ((a * (long) dim + i) * inner);
        for (int k = 0; k < inner; k++) {
          map[o++] = src + k;
        }
      }
    }
    return gatherIndices(data, map, shape);
  }

  static long[] axesOf(OnnxNode node, Value[] in, long opset) {
    if (opset >= 13) {
      return in.length > 1 && in[1] != null ? longs(node, in[1], "axes") : null;
    }
    return attrInts(node, "axes");
  }

  static Value unsqueeze(OnnxNode node, Value[] in, long opset) {
    long[] axes = axesOf(node, in, opset);
    if (axes == null) {
      throw fail(node, "axes are required");
    }
    int r = in[0].rank() + axes.length;
    boolean[] added = new boolean[r];
    for (long a : axes) {
      int ax = axis(node, a, r);
      if (added[ax]) {
        throw fail(node, "axis " + a + " appears twice");
      }
      added[ax] = true;
    }
    int[] shape = new int[r];
    int j = 0;
    for (int i = 0; i < r; i++) {
      shape[i] = added[i] ? 1 : in[0].shape[j++];
    }
    return in[0].reshaped(shape);
  }

  static Value squeeze(OnnxNode node, Value[] in, long opset) {
    long[] axes = axesOf(node, in, opset);
    Value x = in[0];
    boolean[] drop = new boolean[x.rank()];
    if (axes == null) {
      for (int i = 0; i < x.rank(); i++) {
        drop[i] = x.shape[i] == 1;
      }
    } else {
      for (long a : axes) {
        int ax = axis(node, a, x.rank());
        if (x.shape[ax] != 1) {
          throw fail(node, "cannot squeeze axis " + a + " of size " + x.shape[ax]);
        }
        drop[ax] = true;
      }
    }
    int[] shape = new int[x.rank()];
    int n = 0;
    for (int i = 0; i < x.rank(); i++) {
      if (!drop[i]) {
        shape[n++] = x.shape[i];
      }
    }
    return x.reshaped(Arrays.copyOf(shape, n));
  }
}
