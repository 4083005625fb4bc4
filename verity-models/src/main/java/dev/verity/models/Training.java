package dev.verity.models;

import dev.verity.onnx.ActivationRanges;
import dev.verity.onnx.OnnxModel;
import java.util.ArrayList;
import java.util.List;

/**
 * Numerics shared by the built-in models' training: everything in float64 with {@link StrictMath}
 * and no parallelism, so training is bit-for-bit reproducible on every JVM.
 */
final class Training {
  private Training() {}

  /** The Adam optimizer for one parameter array. */
  static final class Adam {
    private static final double BETA1 = 0.9;
    private static final double BETA2 = 0.999;
    private static final double EPSILON = 1e-8;

    private final double[] params;
    private final double[] m;
    private final double[] v;
    private double rate;
    private final double weightDecay;
    private int step;

    Adam(double[] params, double rate, double weightDecay) {
      this.params = params;
      this.m = new double[params.length];
      this.v = new double[params.length];
      this.rate = rate;
      this.weightDecay = weightDecay;
    }

    /** Changes the learning rate, for a schedule. */
    void rate(double newRate) {
      this.rate = newRate;
    }

    /** Applies one update from the batch-mean gradient (L2 decay added here). */
    void update(double[] grad) {
      step++;
      double c1 = 1 - StrictMath.pow(BETA1, step);
      double c2 = 1 - StrictMath.pow(BETA2, step);
      for (int i = 0; i < params.length; i++) {
        double g = grad[i] + weightDecay * params[i];
        m[i] = BETA1 * m[i] + (1 - BETA1) * g;
        v[i] = BETA2 * v[i] + (1 - BETA2) * g * g;
        params[i] -= rate * (m[i] / c1) / (StrictMath.sqrt(v[i] / c2) + EPSILON);
      }
    }
  }

  /** Fills with Gaussian noise of the given standard deviation (Box-Muller over StrictMath). */
  static void gaussian(double[] into, double std, java.util.SplittableRandom rnd) {
    for (int i = 0; i < into.length; i++) {
      double u1 = 1.0 - rnd.nextDouble(); // (0, 1]
      double u2 = rnd.nextDouble();
      double radius = StrictMath.sqrt(-2 * StrictMath.log(u1));
      into[i] = std * radius * StrictMath.cos(2 * StrictMath.PI * u2);
    }
  }

  /** Softmax in place, shifted by the maximum for stability. */
  static void softmax(double[] z) {
    double max = Double.NEGATIVE_INFINITY;
    for (double v : z) {
      max = Math.max(max, v);
    }
    double sum = 0;
    for (int i = 0; i < z.length; i++) {
      z[i] = StrictMath.exp(z[i] - max);
      sum += z[i];
    }
    for (int i = 0; i < z.length; i++) {
      z[i] /= sum;
    }
  }

  /** A fresh permutation of 0..n-1 (Fisher-Yates). */
  static int[] permutation(int n, java.util.SplittableRandom rnd) {
    int[] order = new int[n];
    for (int i = 0; i < n; i++) {
      order[i] = i;
    }
    for (int i = n - 1; i > 0; i--) {
      int j = rnd.nextInt(i + 1);
      int t = order[i];
      order[i] = order[j];
      order[j] = t;
    }
    return order;
  }

  static int argmax(double[] z) {
    int best = 0;
    for (int i = 1; i < z.length; i++) {
      if (z[i] > z[best]) {
        best = i;
      }
    }
    return best;
  }

  /**
   * The model with calibration ranges measured on the training split in its metadata ({@link
   * ActivationRanges}), so that quantizers (zero-knowledge proofs) derive their scales from the file
   * alone. Deterministic: the same model and data give the same bytes.
   */
  static OnnxModel calibrated(OnnxModel model, Dataset train) {
    List<float[]> rows = new ArrayList<>(train.size());
    for (double[] row : train.features()) {
      rows.add(toFloats(row));
    }
    return ActivationRanges.measure(model, rows).embedIn(model);
  }

  /** The examples of a split as samples of the given per-example shape (batch 1). */
  static List<ExampleModel.Sample> samples(Dataset d, long[] shape) {
    List<ExampleModel.Sample> out = new ArrayList<>(d.size());
    for (int i = 0; i < d.size(); i++) {
      out.add(new ExampleModel.Sample(toFloats(d.features()[i]), shape, d.labels()[i]));
    }
    return out;
  }

  /** Fraction of {@code test} whose most probable class, by {@code probabilities}, is its label. */
  static double accuracy(Dataset test, java.util.function.Function<float[], double[]> probabilities) {
    int right = 0;
    for (int i = 0; i < test.size(); i++) {
      if (argmax(probabilities.apply(toFloats(test.features()[i]))) == test.labels()[i]) {
        right++;
      }
    }
    return (double) right / test.size();
  }

  /** Rounds to float32, as the exported ONNX model stores weights. */
  static float[] toFloats(double[] d) {
    float[] f = new float[d.length];
    for (int i = 0; i < d.length; i++) {
      f[i] = (float) d[i];
    }
    return f;
  }
}
