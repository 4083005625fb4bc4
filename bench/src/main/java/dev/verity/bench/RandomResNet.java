package dev.verity.bench;

import dev.verity.onnx.Dim;
import dev.verity.onnx.ElementType;
import dev.verity.onnx.OnnxAttribute;
import dev.verity.onnx.OnnxModel;
import java.util.List;
import java.util.SplittableRandom;

/**
 * An image classifier with the layers of ResNet-50 v1.5 (He et al., 2015; the variant that MLPerf
 * Inference uses for image classification) and random float32 weights, for measuring a model that
 * computes as much per byte moved as a typical vision model: one 3 x 224 x 224 image in (602 KB),
 * 1000 class scores out (4 KB), about 4.1 G multiply-adds and 25.5 M parameters in between.
 *
 * <p>Structure: {@code Conv 7x7/2 (64) - Relu - MaxPool 3x3/2}, four stages of 3, 4, 6 and 3
 * bottleneck blocks (inner widths 64, 128, 256, 512; outputs four times as wide), {@code
 * GlobalAveragePool - Flatten - Gemm (1000)}. A bottleneck block is {@code Conv 1x1 - Relu - Conv
 * 3x3 - Relu - Conv 1x1 - Add(shortcut) - Relu}; the first block of each stage projects its shortcut
 * with a 1x1 convolution, and in stages 2-4 it halves the resolution in its 3x3 convolution (v1.5).
 * Batch normalisation is folded into each convolution's bias, as an inference export does, so every
 * layer is one {@code Conv}. The weights are not trained: they are drawn uniformly from
 * +-sqrt(6 / fan-in) with a fixed seed (each block's last convolution scaled by 0.2 so activations
 * stay in range through the residual sums). The arithmetic ONNX Runtime performs does not depend on
 * the values, so the run time is that of a trained network of this shape; the same seed always
 * gives the same ONNX bytes and thus the same model CID.
 *
 * @param seed the seed of the weights
 */
public record RandomResNet(long seed) {
  public static final String INPUT = "image";
  public static final String OUTPUT = "logits";
  public static final int SIDE = 224;
  public static final int CLASSES = 1000;
  private static final int[] STAGE_WIDTHS = {64, 128, 256, 512};
  private static final int[] STAGE_BLOCKS = {3, 4, 6, 3};
  private static final int EXPANSION = 4;

  public OnnxModel build() {
    Layers layers = new Layers(new SplittableRandom(seed));
    OnnxModel.Builder b = layers.b
        .producer("verity-bench", "1")
        .graphName("resnet50-layers")
        .input(INPUT, ElementType.FLOAT, Dim.symbolic("N"), Dim.of(3), Dim.of(SIDE), Dim.of(SIDE))
        .output(OUTPUT, ElementType.FLOAT, Dim.symbolic("N"), Dim.of(CLASSES));
    String x = layers.relu(layers.conv("stem", INPUT, 3, 64, 7, 2, 1.0));
    b.node("MaxPool", List.of(x), List.of("stem.pool"), OnnxAttribute.ofInts("kernel_shape", 3, 3),
        OnnxAttribute.ofInts("strides", 2, 2), OnnxAttribute.ofInts("pads", 1, 1, 1, 1));
    x = "stem.pool";
    int channels = 64;
    for (int stage = 0; stage < STAGE_WIDTHS.length; stage++) {
      int width = STAGE_WIDTHS[stage];
      int out = width * EXPANSION;
      for (int block = 0; block < STAGE_BLOCKS[stage]; block++) {
        int stride = stage > 0 && block == 0 ? 2 : 1;
        String name = "layer" + (stage + 1) + "." + block;
        String shortcut = block == 0 ? layers.conv(name + ".downsample", x, channels, out, 1, stride, 1.0) : x;
        String h = layers.relu(layers.conv(name + ".conv1", x, channels, width, 1, 1, 1.0));
        h = layers.relu(layers.conv(name + ".conv2", h, width, width, 3, stride, 1.0));
        h = layers.conv(name + ".conv3", h, width, out, 1, 1, 0.2);
        b.node("Add", List.of(h, shortcut), List.of(name + ".sum"));
        x = layers.relu(name + ".sum");
        channels = out;
      }
    }
    b.node("GlobalAveragePool", List.of(x), List.of("pool"));
    b.node("Flatten", List.of("pool"), List.of("flat"), OnnxAttribute.ofInt("axis", 1));
    b.initializer("fc.weight", new long[] {CLASSES, channels}, layers.uniform(CLASSES * channels, Math.sqrt(6.0 / channels)))
        .initializer("fc.bias", new long[] {CLASSES}, layers.uniform(CLASSES, 0.01));
    b.node("Gemm", List.of("flat", "fc.weight", "fc.bias"), List.of(OUTPUT), OnnxAttribute.ofInt("transB", 1));
    return b.build();
  }

  /** One image of uniform values in [-1, 1) from {@code inputSeed}, as a normalised photo would be. */
  public float[] sampleInput(long inputSeed) {
    return new Layers(new SplittableRandom(inputSeed)).uniform(3 * SIDE * SIDE, 1.0);
  }

  /** Adds layers to one builder, drawing weights from one random sequence in layer order. */
  private static final class Layers {
    final OnnxModel.Builder b = OnnxModel.builder();
    final SplittableRandom random;

    Layers(SplittableRandom random) {
      this.random = random;
    }

    String conv(String name, String input, int in, int out, int kernel, int stride, double scale) {
      int fanIn = in * kernel * kernel;
      b.initializer(name + ".weight", new long[] {out, in, kernel, kernel},
          uniform(out * fanIn, scale * Math.sqrt(6.0 / fanIn)));
      b.initializer(name + ".bias", new long[] {out}, uniform(out, 0.01));
      int pad = kernel / 2;
      b.node("Conv", List.of(input, name + ".weight", name + ".bias"), List.of(name),
          OnnxAttribute.ofInts("kernel_shape", kernel, kernel), OnnxAttribute.ofInts("strides", stride, stride),
          OnnxAttribute.ofInts("pads", pad, pad, pad, pad));
      return name;
    }

    String relu(String input) {
      String out = input + ".relu";
      b.node("Relu", List.of(input), List.of(out));
      return out;
    }

    float[] uniform(int n, double bound) {
      float[] v = new float[n];
      for (int i = 0; i < n; i++) {
        v[i] = (float) ((random.nextDouble() * 2 - 1) * bound);
      }
      return v;
    }
  }
}
