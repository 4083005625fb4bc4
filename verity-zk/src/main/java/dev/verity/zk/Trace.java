package dev.verity.zk;

/**
 * Every intermediate value of one inference, in the padded channel-major layout of {@link Shape}
 * (zeros in padding): the prover's witness. Values are exact signed integers.
 */
final class Trace {
  final QuantizedModel model;
  /** Tensor t's padded values. */
  final long[][] values;
  /** For a tensor produced by a rescaling: floor(x / 2^shift) before the ReLU. */
  final long[][] quotients;
  /** For a tensor produced by a rescaling: x - 2^shift * quotient, in [0, 2^shift). */
  final long[][] remainders;

  private Trace(QuantizedModel model) {
    this.model = model;
    int n = model.architecture().tensorCount();
    values = new long[n][];
    quotients = new long[n][];
    remainders = new long[n][];
  }

  static Trace of(QuantizedModel model, long[] input) {
    Architecture arch = model.architecture();
    Shape inShape = arch.inputShape();
    if (input.length != inShape.size()) {
      throw new IllegalArgumentException("input needs " + inShape.size() + " values (" + inShape + "), got " + input.length);
    }
    long limit = 1L << (Architecture.ACTIVATION_BITS - 1);
    Trace t = new Trace(model);
    long[] x = new long[inShape.paddedSize()];
    for (int i = 0; i < input.length; i++) {
      if (input[i] < -limit || input[i] >= limit) {
        throw new IllegalArgumentException(
            "input value " + input[i] + " at " + i + " is outside the " + Architecture.ACTIVATION_BITS + "-bit activation range");
      }
      x[inShape.physicalIndexOfFlat(i)] = input[i];
    }
    t.values[0] = x;
    for (int i = 0; i < arch.layers().size(); i++) {
      t.apply(i, arch.layers().get(i));
    }
    return t;
  }

  private void apply(int layerIndex, Layer layer) {
    Architecture arch = model.architecture();
    int out = layerIndex + 1;
    Shape os = arch.shape(out);
    long[] y = new long[os.paddedSize()];
    switch (layer) {
      case Layer.Dense d -> {
        Shape is = arch.shape(d.input());
        long[] x = values[d.input()];
        int n = is.size();
        int[] phys = new int[n];
        for (int j = 0; j < n; j++) {
          phys[j] = is.physicalIndexOfFlat(j);
        }
        int[] w = model.weightsView(layerIndex);
        long[] b = model.biasView(layerIndex);
        for (int o = 0; o < d.outputs(); o++) {
          long acc = b[o];
          int row = o * n;
          for (int j = 0; j < n; j++) {
            acc += (long) w[row + j] * x[phys[j]];
          }
          y[os.physicalIndex(o, 0, 0)] = acc;
        }
      }
      case Layer.Conv2d c ->
          convolve(c, model.weightsView(layerIndex), model.biasView(layerIndex), values[c.input()], arch.shape(c.input()), os, y);
      case Layer.Requant r -> {
        long[] x = values[r.input()];
        long[] z = new long[x.length];
        long[] rem = new long[x.length];
        long limit = 1L << (Architecture.ACTIVATION_BITS - 1);
        for (int i = 0; i < x.length; i++) {
          long q = x[i] >> r.shift();
          if (q < -limit || q >= limit) {
            throw new ArithmeticException(
                "rescaled value " + q + " of layer " + (out - 1) + " leaves the " + Architecture.ACTIVATION_BITS
                    + "-bit activation range; increase its shift");
          }
          z[i] = q;
          rem[i] = x[i] - (q << r.shift());
          y[i] = r.relu() ? Math.max(q, 0) : q;
        }
        quotients[out] = z;
        remainders[out] = rem;
      }
      case Layer.MaxPool m -> pool(values[m.input()], arch.shape(m.input()), os, y, true);
      case Layer.SumPool s -> pool(values[s.input()], arch.shape(s.input()), os, y, false);
      case Layer.Add a -> {
        long[] l = values[a.left()];
        long[] r = values[a.right()];
        for (int i = 0; i < y.length; i++) {
          y[i] = l[i] + r[i];
        }
      }
    }
    values[out] = y;
  }

  private static void convolve(Layer.Conv2d c, int[] w, long[] b, long[] x, Shape is, Shape os, long[] y) {
    int k = c.kernel();
    int ci = is.channels();
    for (int co = 0; co < c.outChannels(); co++) {
      for (int oy = 0; oy < os.height(); oy++) {
        for (int ox = 0; ox < os.width(); ox++) {
          long acc = b[co];
          for (int ch = 0; ch < ci; ch++) {
            int wBase = (co * ci + ch) * k * k;
            for (int ky = 0; ky < k; ky++) {
              int iy = oy * c.stride() + ky - c.padding();
              if (iy < 0 || iy >= is.height()) {
                continue;
              }
              int rowBase = is.physicalIndex(ch, iy, 0);
              for (int kx = 0; kx < k; kx++) {
                int ix = ox * c.stride() + kx - c.padding();
                if (ix >= 0 && ix < is.width()) {
                  acc += (long) w[wBase + ky * k + kx] * x[rowBase + ix];
                }
              }
            }
          }
          y[os.physicalIndex(co, oy, ox)] = acc;
        }
      }
    }
  }

  private static void pool(long[] x, Shape is, Shape os, long[] y, boolean max) {
    for (int c = 0; c < os.channels(); c++) {
      for (int oy = 0; oy < os.height(); oy++) {
        for (int ox = 0; ox < os.width(); ox++) {
          long a = x[is.physicalIndex(c, 2 * oy, 2 * ox)];
          long b = x[is.physicalIndex(c, 2 * oy, 2 * ox + 1)];
          long d = x[is.physicalIndex(c, 2 * oy + 1, 2 * ox)];
          long e = x[is.physicalIndex(c, 2 * oy + 1, 2 * ox + 1)];
          y[os.physicalIndex(c, oy, ox)] = max ? Math.max(Math.max(a, b), Math.max(d, e)) : a + b + d + e;
        }
      }
    }
  }

  /** The last tensor in logical channel-major order. */
  long[] logicalOutput() {
    int last = model.architecture().outputTensor();
    Shape s = model.architecture().shape(last);
    long[] out = new long[s.size()];
    for (int i = 0; i < out.length; i++) {
      out[i] = values[last][s.physicalIndexOfFlat(i)];
    }
    return out;
  }
}
