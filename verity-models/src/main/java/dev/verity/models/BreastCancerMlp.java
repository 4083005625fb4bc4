package dev.verity.models;

import dev.verity.onnx.Dim;
import dev.verity.onnx.ElementType;
import dev.verity.onnx.OnnxAttribute;
import dev.verity.onnx.OnnxModel;
import dev.verity.onnx.OnnxWriter;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * The clinical example: a 30-16-2 perceptron that tells malignant (class 0) from benign (class 1)
 * breast tumours from 30 measurements of cell nuclei. Standardisation with the training split's
 * mean and deviation is part of the ONNX graph, so callers feed raw measurements:
 *
 * <pre>features[N,30] -Sub(mean)-Div(std)-Gemm(16)-Relu-Gemm(2)-Softmax- probabilities[N,2]</pre>
 */
final class BreastCancerMlp {
  static final String NAME = "breast-cancer";
  static final String INPUT = "features";
  static final String OUTPUT = "probabilities";
  static final int FEATURES = 30;
  static final int HIDDEN = 16;
  static final int CLASSES = 2;
  static final long SPLIT_SEED = 20_250_101L;
  static final long TRAIN_SEED = 42L;
  private static final int EPOCHS = 120;
  private static final int BATCH = 32;

  // Exported (float32) parameters; W1 is [HIDDEN][FEATURES] row-major, W2 is [CLASSES][HIDDEN].
  final float[] mean;
  final float[] std;
  final float[] w1;
  final float[] b1;
  final float[] w2;
  final float[] b2;

  private BreastCancerMlp(double[] mean, double[] std, double[] w1, double[] b1, double[] w2,
      double[] b2) {
    this.mean = Training.toFloats(mean);
    this.std = Training.toFloats(std);
    this.w1 = Training.toFloats(w1);
    this.b1 = Training.toFloats(b1);
    this.w2 = Training.toFloats(w2);
    this.b2 = Training.toFloats(b2);
  }

  static Dataset.Split split() {
    return Dataset.breastCancer().split(SPLIT_SEED, 0.8);
  }

  /** Trains on the training split; the same data and seeds give the same parameters. */
  static BreastCancerMlp train(Dataset train) {
    int n = train.size();
    double[] mean = new double[FEATURES];
    double[] std = new double[FEATURES];
    for (double[] row : train.features()) {
      for (int j = 0; j < FEATURES; j++) {
        mean[j] += row[j];
      }
    }
    for (int j = 0; j < FEATURES; j++) {
      mean[j] /= n;
    }
    for (double[] row : train.features()) {
      for (int j = 0; j < FEATURES; j++) {
        double d = row[j] - mean[j];
        std[j] += d * d;
      }
    }
    for (int j = 0; j < FEATURES; j++) {
      std[j] = StrictMath.sqrt(std[j] / n);
      if (std[j] < 1e-12) {
        std[j] = 1;
      }
    }
    double[][] z = new double[n][FEATURES];
    for (int i = 0; i < n; i++) {
      for (int j = 0; j < FEATURES; j++) {
        z[i][j] = (train.features()[i][j] - mean[j]) / std[j];
      }
    }

    SplittableRandom rnd = new SplittableRandom(TRAIN_SEED);
    double[] w1 = new double[HIDDEN * FEATURES];
    double[] b1 = new double[HIDDEN];
    double[] w2 = new double[CLASSES * HIDDEN];
    double[] b2 = new double[CLASSES];
    Training.gaussian(w1, StrictMath.sqrt(2.0 / FEATURES), rnd);
    Training.gaussian(w2, StrictMath.sqrt(1.0 / HIDDEN), rnd);
    Training.Adam[] opt = {
      new Training.Adam(w1, 0.01, 1e-4), new Training.Adam(b1, 0.01, 0),
      new Training.Adam(w2, 0.01, 1e-4), new Training.Adam(b2, 0.01, 0)
    };
    double[] gw1 = new double[w1.length];
    double[] gb1 = new double[b1.length];
    double[] gw2 = new double[w2.length];
    double[] gb2 = new double[b2.length];
    double[] h = new double[HIDDEN];
    double[] p = new double[CLASSES];
    double[] dh = new double[HIDDEN];

    for (int epoch = 0; epoch < EPOCHS; epoch++) {
      int[] order = Training.permutation(n, rnd);
      for (int start = 0; start < n; start += BATCH) {
        int end = Math.min(n, start + BATCH);
        java.util.Arrays.fill(gw1, 0);
        java.util.Arrays.fill(gb1, 0);
        java.util.Arrays.fill(gw2, 0);
        java.util.Arrays.fill(gb2, 0);
        for (int k = start; k < end; k++) {
          double[] x = z[order[k]];
          int y = train.labels()[order[k]];
          for (int o = 0; o < HIDDEN; o++) {
            double s = b1[o];
            for (int j = 0; j < FEATURES; j++) {
              s += w1[o * FEATURES + j] * x[j];
            }
            h[o] = Math.max(0, s);
          }
          for (int c = 0; c < CLASSES; c++) {
            double s = b2[c];
            for (int o = 0; o < HIDDEN; o++) {
              s += w2[c * HIDDEN + o] * h[o];
            }
            p[c] = s;
          }
          Training.softmax(p);
          p[y] -= 1; // gradient of cross-entropy wrt logits
          java.util.Arrays.fill(dh, 0);
          for (int c = 0; c < CLASSES; c++) {
            gb2[c] += p[c];
            for (int o = 0; o < HIDDEN; o++) {
              gw2[c * HIDDEN + o] += p[c] * h[o];
              dh[o] += p[c] * w2[c * HIDDEN + o];
            }
          }
          for (int o = 0; o < HIDDEN; o++) {
            if (h[o] <= 0) {
              continue;
            }
            gb1[o] += dh[o];
            for (int j = 0; j < FEATURES; j++) {
              gw1[o * FEATURES + j] += dh[o] * x[j];
            }
          }
        }
        double scale = 1.0 / (end - start);
        double[][] grads = {gw1, gb1, gw2, gb2};
        for (int g = 0; g < grads.length; g++) {
          for (int i = 0; i < grads[g].length; i++) {
            grads[g][i] *= scale;
          }
          opt[g].update(grads[g]);
        }
      }
    }
    return new BreastCancerMlp(mean, std, w1, b1, w2, b2);
  }

  /** The exported model's output for one row of raw measurements, computed in Java. */
  double[] probabilities(float[] features) {
    double[] h = new double[HIDDEN];
    double[] z = new double[FEATURES];
    for (int j = 0; j < FEATURES; j++) {
      z[j] = (features[j] - mean[j]) / std[j]; // float32 arithmetic, as the graph's Sub and Div
    }
    for (int o = 0; o < HIDDEN; o++) {
      double s = b1[o];
      for (int j = 0; j < FEATURES; j++) {
        s += (double) w1[o * FEATURES + j] * z[j];
      }
      h[o] = Math.max(0, s);
    }
    double[] p = new double[CLASSES];
    for (int c = 0; c < CLASSES; c++) {
      double s = b2[c];
      for (int o = 0; o < HIDDEN; o++) {
        s += (double) w2[c * HIDDEN + o] * h[o];
      }
      p[c] = s;
    }
    Training.softmax(p);
    return p;
  }

  static float[] row(double[] features) {
    return Training.toFloats(features);
  }

  double accuracy(Dataset test) {
    return Training.accuracy(test, this::probabilities);
  }

  OnnxModel toOnnx() {
    Dim n = Dim.symbolic("N");
    return OnnxModel.builder()
        .producer("verity-models", "1")
        .graphName(NAME)
        .docString("Breast cancer diagnosis: probabilities of malignant (0) and benign (1).")
        .metadata("verity.task", ExampleModel.CLASSIFICATION)
        .metadata("verity.labels", "malignant,benign")
        .input(INPUT, ElementType.FLOAT, n, Dim.of(FEATURES))
        .output(OUTPUT, ElementType.FLOAT, n, Dim.of(CLASSES))
        .initializer("mean", new long[] {FEATURES}, mean)
        .initializer("std", new long[] {FEATURES}, std)
        .initializer("fc1.weight", new long[] {HIDDEN, FEATURES}, w1)
        .initializer("fc1.bias", new long[] {HIDDEN}, b1)
        .initializer("fc2.weight", new long[] {CLASSES, HIDDEN}, w2)
        .initializer("fc2.bias", new long[] {CLASSES}, b2)
        .node("Sub", List.of(INPUT, "mean"), List.of("centered"))
        .node("Div", List.of("centered", "std"), List.of("standardized"))
        .node("Gemm", List.of("standardized", "fc1.weight", "fc1.bias"), List.of("fc1"),
            OnnxAttribute.ofInt("transB", 1))
        .node("Relu", List.of("fc1"), List.of("hidden"))
        .node("Gemm", List.of("hidden", "fc2.weight", "fc2.bias"), List.of("logits"),
            OnnxAttribute.ofInt("transB", 1))
        .node("Softmax", List.of("logits"), List.of(OUTPUT), OnnxAttribute.ofInt("axis", 1))
        .build();
  }

  /** Trains on the fixed split and packages the result. */
  static ExampleModel example() {
    Dataset.Split split = split();
    BreastCancerMlp mlp = train(split.train());
    List<ExampleModel.Sample> samples = new ArrayList<>();
    for (int c = 0; c < CLASSES; c++) {
      for (int i = 0; i < split.test().size(); i++) {
        if (split.test().labels()[i] == c) {
          samples.add(new ExampleModel.Sample(row(split.test().features()[i]),
              new long[] {1, FEATURES}, c));
          break;
        }
      }
    }
    return new ExampleModel(
        NAME,
        "Breast cancer diagnosis, the clinical example: a hospital runs an approved model on 30"
            + " measurements of cell nuclei from a fine-needle aspirate (Wisconsin Diagnostic"
            + " Breast Cancer data). A 30-16-2 perceptron; standardisation is inside the graph, so"
            + " it takes raw measurements. Input 'features' float32 [N,30]; output"
            + " 'probabilities' float32 [N,2]: malignant (0), benign (1).",
        ExampleModel.CLASSIFICATION,
        "Wisconsin Diagnostic Breast Cancer (Wolberg, Street, Mangasarian; UCI Machine Learning"
            + " Repository, CC BY 4.0), as distributed by scikit-learn (BSD-3-Clause)",
        OnnxWriter.write(Training.calibrated(mlp.toOnnx(), split.train())),
        INPUT,
        OUTPUT,
        List.of("malignant", "benign"),
        samples,
        mlp.accuracy(split.test()),
        split.test().size());
  }
}
