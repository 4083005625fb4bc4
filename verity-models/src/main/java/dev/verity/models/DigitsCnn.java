package dev.verity.models;

import dev.verity.onnx.Dim;
import dev.verity.onnx.ElementType;
import dev.verity.onnx.OnnxAttribute;
import dev.verity.onnx.OnnxModel;
import dev.verity.onnx.OnnxWriter;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;

/**
 * A small convolutional network for 8x8 hand-written digits with pixel values 0..16. The graph
 * scales pixels to 0..1 itself, so callers feed the raw values:
 *
 * <pre>
 * image[N,1,8,8] -Mul(1/16)-Conv(3x3, 16 channels, pad 1)-Relu-MaxPool(2x2)-Flatten
 *                -Gemm(10)-Softmax- probabilities[N,10]
 * </pre>
 */
final class DigitsCnn {
  static final String NAME = "digits-cnn";
  static final String INPUT = "image";
  static final String OUTPUT = "probabilities";
  static final int SIDE = 8;
  static final int CHANNELS = 16;
  static final int POOLED = SIDE / 2;
  static final int FLAT = CHANNELS * POOLED * POOLED;
  static final int CLASSES = 10;
  static final float PIXEL_SCALE = 1f / 16; // exact in float32
  static final long SPLIT_SEED = 20_250_102L;
  static final long TRAIN_SEED = 7L;
  private static final int EPOCHS = 15;
  private static final int BATCH = 32;

  // Exported (float32) parameters: conv [CHANNELS][1][3][3], fc [CLASSES][FLAT].
  final float[] convW;
  final float[] convB;
  final float[] fcW;
  final float[] fcB;

  private DigitsCnn(double[] convW, double[] convB, double[] fcW, double[] fcB) {
    this.convW = Training.toFloats(convW);
    this.convB = Training.toFloats(convB);
    this.fcW = Training.toFloats(fcW);
    this.fcB = Training.toFloats(fcB);
  }

  static Dataset.Split split() {
    return Dataset.digits().split(SPLIT_SEED, 0.8);
  }

  /** Activations of one forward pass, kept for the backward pass. */
  private static final class Pass {
    final double[] conv = new double[CHANNELS * SIDE * SIDE]; // after ReLU
    final double[] pooled = new double[FLAT];
    final int[] argmax = new int[FLAT]; // index into conv of each pooled maximum
    final double[] out = new double[CLASSES];
  }

  /** Forward pass in float64 on already scaled pixels (0..1), row-major 8x8. */
  private static void forward(double[] x, double[] convW, double[] convB, double[] fcW,
      double[] fcB, Pass p) {
    for (int k = 0; k < CHANNELS; k++) {
      for (int i = 0; i < SIDE; i++) {
        for (int j = 0; j < SIDE; j++) {
          double s = convB[k];
          for (int di = 0; di < 3; di++) {
            int yi = i + di - 1;
            if (yi < 0 || yi >= SIDE) {
              continue;
            }
            for (int dj = 0; dj < 3; dj++) {
              int xj = j + dj - 1;
              if (xj >= 0 && xj < SIDE) {
                s += convW[k * 9 + di * 3 + dj] * x[yi * SIDE + xj];
              }
            }
          }
          p.conv[(k * SIDE + i) * SIDE + j] = Math.max(0, s);
        }
      }
    }
    for (int k = 0; k < CHANNELS; k++) {
      for (int i = 0; i < POOLED; i++) {
        for (int j = 0; j < POOLED; j++) {
          int best = (k * SIDE + 2 * i) * SIDE + 2 * j;
          for (int di = 0; di < 2; di++) {
            for (int dj = 0; dj < 2; dj++) {
              int at = (k * SIDE + 2 * i + di) * SIDE + 2 * j + dj;
              if (p.conv[at] > p.conv[best]) {
                best = at;
              }
            }
          }
          int f = (k * POOLED + i) * POOLED + j;
          p.pooled[f] = p.conv[best];
          p.argmax[f] = best;
        }
      }
    }
    for (int c = 0; c < CLASSES; c++) {
      double s = fcB[c];
      for (int f = 0; f < FLAT; f++) {
        s += fcW[c * FLAT + f] * p.pooled[f];
      }
      p.out[c] = s;
    }
    Training.softmax(p.out);
  }

  static DigitsCnn train(Dataset train) {
    int n = train.size();
    double[][] x = new double[n][];
    for (int i = 0; i < n; i++) {
      x[i] = new double[SIDE * SIDE];
      for (int j = 0; j < SIDE * SIDE; j++) {
        x[i][j] = train.features()[i][j] * PIXEL_SCALE;
      }
    }
    SplittableRandom rnd = new SplittableRandom(TRAIN_SEED);
    double[] convW = new double[CHANNELS * 9];
    double[] convB = new double[CHANNELS];
    double[] fcW = new double[CLASSES * FLAT];
    double[] fcB = new double[CLASSES];
    Training.gaussian(convW, StrictMath.sqrt(2.0 / 9), rnd);
    Training.gaussian(fcW, StrictMath.sqrt(1.0 / FLAT), rnd);
    double rate = 0.01;
    Training.Adam[] opt = {
      new Training.Adam(convW, rate, 1e-4), new Training.Adam(convB, rate, 0),
      new Training.Adam(fcW, rate, 1e-4), new Training.Adam(fcB, rate, 0)
    };
    double[] gConvW = new double[convW.length];
    double[] gConvB = new double[convB.length];
    double[] gFcW = new double[fcW.length];
    double[] gFcB = new double[fcB.length];
    double[] dConv = new double[CHANNELS * SIDE * SIDE];
    double[] dPooled = new double[FLAT];
    Pass p = new Pass();
    for (int epoch = 0; epoch < EPOCHS; epoch++) {
      // Linear decay from the base rate to a tenth of it.
      double epochRate = rate * (1 - 0.9 * epoch / (EPOCHS - 1.0));
      for (Training.Adam a : opt) {
        a.rate(epochRate);
      }
      int[] order = Training.permutation(n, rnd);
      for (int start = 0; start < n; start += BATCH) {
        int end = Math.min(n, start + BATCH);
        Arrays.fill(gConvW, 0);
        Arrays.fill(gConvB, 0);
        Arrays.fill(gFcW, 0);
        Arrays.fill(gFcB, 0);
        for (int b = start; b < end; b++) {
          double[] img = x[order[b]];
          forward(img, convW, convB, fcW, fcB, p);
          p.out[train.labels()[order[b]]] -= 1; // d loss / d logits
          Arrays.fill(dPooled, 0);
          for (int c = 0; c < CLASSES; c++) {
            double g = p.out[c];
            gFcB[c] += g;
            for (int f = 0; f < FLAT; f++) {
              gFcW[c * FLAT + f] += g * p.pooled[f];
              dPooled[f] += g * fcW[c * FLAT + f];
            }
          }
          Arrays.fill(dConv, 0);
          for (int f = 0; f < FLAT; f++) {
            if (p.pooled[f] > 0) { // ReLU passes gradient only where it was positive
              dConv[p.argmax[f]] += dPooled[f];
            }
          }
          for (int k = 0; k < CHANNELS; k++) {
            for (int i = 0; i < SIDE; i++) {
              for (int j = 0; j < SIDE; j++) {
                double g = dConv[(k * SIDE + i) * SIDE + j];
                if (g == 0) {
                  continue;
                }
                gConvB[k] += g;
                for (int di = 0; di < 3; di++) {
                  int yi = i + di - 1;
                  if (yi < 0 || yi >= SIDE) {
                    continue;
                  }
                  for (int dj = 0; dj < 3; dj++) {
                    int xj = j + dj - 1;
                    if (xj >= 0 && xj < SIDE) {
                      gConvW[k * 9 + di * 3 + dj] += g * img[yi * SIDE + xj];
                    }
                  }
                }
              }
            }
          }
        }
        double scale = 1.0 / (end - start);
        double[][] grads = {gConvW, gConvB, gFcW, gFcB};
        for (int g = 0; g < grads.length; g++) {
          for (int i = 0; i < grads[g].length; i++) {
            grads[g][i] *= scale;
          }
          opt[g].update(grads[g]);
        }
      }
    }
    return new DigitsCnn(convW, convB, fcW, fcB);
  }

  /** The exported model's output for one image of raw pixels 0..16, computed in Java. */
  double[] probabilities(float[] pixels) {
    double[] x = new double[SIDE * SIDE];
    for (int i = 0; i < x.length; i++) {
      x[i] = pixels[i] * PIXEL_SCALE; // float product, as the graph's Mul
    }
    Pass p = new Pass();
    forward(x, widen(convW), widen(convB), widen(fcW), widen(fcB), p);
    return p.out.clone();
  }

  private static double[] widen(float[] f) {
    double[] d = new double[f.length];
    for (int i = 0; i < f.length; i++) {
      d[i] = f[i];
    }
    return d;
  }

  double accuracy(Dataset test) {
    return Training.accuracy(test, this::probabilities);
  }

  OnnxModel toOnnx() {
    Dim n = Dim.symbolic("N");
    return OnnxModel.builder()
        .producer("verity-models", "1")
        .graphName(NAME)
        .docString("Hand-written digit recognition: probabilities of the digits 0..9.")
        .metadata("verity.task", ExampleModel.CLASSIFICATION)
        .metadata("verity.labels", "0,1,2,3,4,5,6,7,8,9")
        .input(INPUT, ElementType.FLOAT, n, Dim.of(1), Dim.of(SIDE), Dim.of(SIDE))
        .output(OUTPUT, ElementType.FLOAT, n, Dim.of(CLASSES))
        .initializer("pixel_scale", new long[] {1}, new float[] {PIXEL_SCALE})
        .initializer("conv.weight", new long[] {CHANNELS, 1, 3, 3}, convW)
        .initializer("conv.bias", new long[] {CHANNELS}, convB)
        .initializer("fc.weight", new long[] {CLASSES, FLAT}, fcW)
        .initializer("fc.bias", new long[] {CLASSES}, fcB)
        .node("Mul", List.of(INPUT, "pixel_scale"), List.of("scaled"))
        .node("Conv", List.of("scaled", "conv.weight", "conv.bias"), List.of("conv"),
            OnnxAttribute.ofInts("kernel_shape", 3, 3), OnnxAttribute.ofInts("pads", 1, 1, 1, 1))
        .node("Relu", List.of("conv"), List.of("conv_relu"))
        .node("MaxPool", List.of("conv_relu"), List.of("pooled"),
            OnnxAttribute.ofInts("kernel_shape", 2, 2), OnnxAttribute.ofInts("strides", 2, 2))
        .node("Flatten", List.of("pooled"), List.of("flat"), OnnxAttribute.ofInt("axis", 1))
        .node("Gemm", List.of("flat", "fc.weight", "fc.bias"), List.of("logits"),
            OnnxAttribute.ofInt("transB", 1))
        .node("Softmax", List.of("logits"), List.of(OUTPUT), OnnxAttribute.ofInt("axis", 1))
        .build();
  }

  static ExampleModel example() {
    Dataset.Split split = split();
    DigitsCnn cnn = train(split.train());
    List<ExampleModel.Sample> samples = new ArrayList<>();
    for (int c = 0; c < CLASSES; c++) {
      for (int i = 0; i < split.test().size(); i++) {
        if (split.test().labels()[i] == c) {
          samples.add(new ExampleModel.Sample(Training.toFloats(split.test().features()[i]),
              new long[] {1, 1, SIDE, SIDE}, c));
          break;
        }
      }
    }
    List<String> labels = new ArrayList<>();
    for (int c = 0; c < CLASSES; c++) {
      labels.add(Integer.toString(c));
    }
    return new ExampleModel(
        NAME,
        "Hand-written digit recognition on 8x8 grey-scale images (UCI optical digits). A small"
            + " convolutional network: Conv 3x3 with 16 channels, ReLU, MaxPool 2x2, Gemm, Softmax."
            + " Input 'image' float32 [N,1,8,8] with raw pixel values 0..16 (the graph scales"
            + " them); output 'probabilities' float32 [N,10] for the digits 0..9.",
        ExampleModel.CLASSIFICATION,
        "Optical Recognition of Handwritten Digits (E. Alpaydin, C. Kaynak; UCI Machine Learning"
            + " Repository, CC BY 4.0), as distributed by scikit-learn (BSD-3-Clause)",
        OnnxWriter.write(Training.calibrated(cnn.toOnnx(), split.train())),
        INPUT,
        OUTPUT,
        labels,
        samples,
        cnn.accuracy(split.test()),
        split.test().size());
  }
}
