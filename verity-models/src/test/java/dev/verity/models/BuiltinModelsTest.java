package dev.verity.models;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.onnxruntime.OrtException;
import dev.verity.onnx.ActivationRanges;
import dev.verity.onnx.Dim;
import dev.verity.onnx.ElementType;
import dev.verity.onnx.OnnxModel;
import dev.verity.onnx.OnnxModelInfo;
import dev.verity.onnx.OnnxReader;
import dev.verity.onnx.OnnxValueInfo;
import dev.verity.onnx.OnnxWriter;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * Each built-in model is checked the way a node relies on it: valid ONNX with the promised
 * signature, reproducible bytes, held-out accuracy as measured by ONNX Runtime running the exported
 * file, and the Java forward pass agreeing with ONNX Runtime.
 */
class BuiltinModelsTest {
  private static final double MIN_ACCURACY = 0.95;
  private static final double FORWARD_TOLERANCE = 1e-4;

  @Test
  void listsBothModelsByName() {
    List<ExampleModel> all = BuiltinModels.all();
    assertEquals(BuiltinModels.names(), all.stream().map(ExampleModel::name).toList());
    assertEquals(List.of("breast-cancer", "digits-cnn"), BuiltinModels.names());
    assertEquals(all.get(1), BuiltinModels.byName("digits-cnn").orElseThrow());
    assertTrue(BuiltinModels.byName("no-such-model").isEmpty());
    for (ExampleModel m : all) {
      assertEquals(ExampleModel.CLASSIFICATION, m.task());
      assertTrue(m.dataLicence().contains("BSD-3-Clause"), m.dataLicence());
    }
  }

  @Test
  void breastCancerModelHasTheClinicalSignature() {
    ExampleModel m = BuiltinModels.byName(BuiltinModels.BREAST_CANCER).orElseThrow();
    OnnxModel onnx = OnnxReader.read(m.onnx());
    assertEquals(
        List.of(OnnxValueInfo.tensor("features", ElementType.FLOAT, Dim.symbolic("N"), Dim.of(30))),
        onnx.realInputs());
    assertEquals(
        List.of(OnnxValueInfo.tensor("probabilities", ElementType.FLOAT, Dim.symbolic("N"),
            Dim.of(2))),
        onnx.outputs());
    assertEquals(Set.of("Sub", "Div", "Gemm", "Relu", "Softmax"), onnx.opTypes());
    assertEquals(List.of("malignant", "benign"), m.classLabels());
    assertEquals(30 * 2 + 16 * 30 + 16 + 2 * 16 + 2, onnx.parameterCount());
    assertEquals(OnnxModelInfo.of(onnx, m.onnx().length), OnnxReader.readInfo(m.onnx()));
  }

  @Test
  void digitsModelHasTheImageSignature() {
    ExampleModel m = BuiltinModels.byName(BuiltinModels.DIGITS_CNN).orElseThrow();
    OnnxModel onnx = OnnxReader.read(m.onnx());
    assertEquals(
        List.of(OnnxValueInfo.tensor("image", ElementType.FLOAT, Dim.symbolic("N"), Dim.of(1),
            Dim.of(8), Dim.of(8))),
        onnx.realInputs());
    assertEquals(
        List.of(OnnxValueInfo.tensor("probabilities", ElementType.FLOAT, Dim.symbolic("N"),
            Dim.of(10))),
        onnx.outputs());
    assertEquals(Set.of("Mul", "Conv", "Relu", "MaxPool", "Flatten", "Gemm", "Softmax"),
        onnx.opTypes());
    assertEquals(10, m.classLabels().size());
  }

  @Test
  void samplesComeFromTheHeldOutSplitOnePerClass() {
    checkSamples(BuiltinModels.byName(BuiltinModels.BREAST_CANCER).orElseThrow(),
        BreastCancerMlp.split().test());
    checkSamples(BuiltinModels.byName(BuiltinModels.DIGITS_CNN).orElseThrow(),
        DigitsCnn.split().test());
  }

  private static void checkSamples(ExampleModel m, Dataset test) {
    float[][] heldOut = OrtRunner.rows(test);
    assertEquals(m.classLabels().size(), m.samples().size());
    for (int c = 0; c < m.samples().size(); c++) {
      ExampleModel.Sample s = m.samples().get(c);
      assertEquals(c, s.label());
      assertEquals(1, s.shape()[0]);
      boolean found = false;
      for (int i = 0; i < heldOut.length && !found; i++) {
        found = test.labels()[i] == c && java.util.Arrays.equals(heldOut[i], s.values());
      }
      assertTrue(found, "sample " + c + " of " + m.name() + " is not a held-out example");
    }
  }

  @Test
  void breastCancerTrainsReproduciblyAndOnnxRuntimeAgreesWithJava() throws OrtException {
    ExampleModel published = BuiltinModels.byName(BuiltinModels.BREAST_CANCER).orElseThrow();
    Dataset.Split split = BreastCancerMlp.split();
    BreastCancerMlp mlp = BreastCancerMlp.train(split.train());
    byte[] again = OnnxWriter.write(Training.calibrated(mlp.toOnnx(), split.train()));
    assertArrayEquals(published.onnx(), again, "a second training gives different ONNX bytes");
    assertEquals(published.cid(), BuiltinModels.trainBreastCancer().cid());

    float[][] rows = OrtRunner.rows(split.test());
    float[][] ort = OrtRunner.run(again, BreastCancerMlp.INPUT, rows, BreastCancerMlp.FEATURES);
    int right = 0;
    for (int i = 0; i < rows.length; i++) {
      double[] java = mlp.probabilities(rows[i]);
      for (int c = 0; c < java.length; c++) {
        assertEquals(java[c], ort[i][c], FORWARD_TOLERANCE, "row " + i + " class " + c);
      }
      if (OrtRunner.argmax(ort[i]) == split.test().labels()[i]) {
        right++;
      }
    }
    checkAccuracy(published, right, rows.length);
  }

  @Test
  void digitsTrainsReproduciblyAndOnnxRuntimeAgreesWithJava() throws OrtException {
    ExampleModel published = BuiltinModels.byName(BuiltinModels.DIGITS_CNN).orElseThrow();
    Dataset.Split split = DigitsCnn.split();
    DigitsCnn cnn = DigitsCnn.train(split.train());
    byte[] again = OnnxWriter.write(Training.calibrated(cnn.toOnnx(), split.train()));
    assertArrayEquals(published.onnx(), again, "a second training gives different ONNX bytes");

    float[][] rows = OrtRunner.rows(split.test());
    float[][] ort = OrtRunner.run(again, DigitsCnn.INPUT, rows, 1, 8, 8);
    int right = 0;
    for (int i = 0; i < rows.length; i++) {
      double[] java = cnn.probabilities(rows[i]);
      for (int c = 0; c < java.length; c++) {
        assertEquals(java[c], ort[i][c], FORWARD_TOLERANCE, "row " + i + " class " + c);
      }
      if (OrtRunner.argmax(ort[i]) == split.test().labels()[i]) {
        right++;
      }
    }
    checkAccuracy(published, right, rows.length);
  }

  @Test
  void heldOutAndTrainingSetsAreTheSplitsTheModelsUse() {
    for (ExampleModel m : BuiltinModels.all()) {
      List<ExampleModel.Sample> heldOut = BuiltinModels.heldOut(m.name());
      assertEquals(m.heldOutSize(), heldOut.size());
      assertTrue(heldOut.containsAll(m.samples()), m.name());
      List<ExampleModel.Sample> training = BuiltinModels.training(m.name());
      assertTrue(training.stream().noneMatch(m.samples()::contains), m.name());
      assertEquals(m.samples().get(0).shape().length, training.get(0).shape().length);
    }
    assertThrows(IllegalArgumentException.class, () -> BuiltinModels.heldOut("no-such-model"));
  }

  @Test
  void modelsCarryCalibrationRangesOfTheirTrainingSplit() {
    for (ExampleModel m : BuiltinModels.all()) {
      OnnxModel onnx = OnnxReader.read(m.onnx());
      ActivationRanges ranges = ActivationRanges.of(onnx).orElseThrow();
      List<float[]> rows = BuiltinModels.training(m.name()).stream().map(ExampleModel.Sample::values).toList();
      assertEquals(rows.size(), ranges.examples());
      OnnxModel bare = new OnnxModel(onnx.irVersion(), onnx.opsetImports(), onnx.producerName(), onnx.producerVersion(),
          onnx.domain(), onnx.modelVersion(), onnx.docString(), onnx.graph(),
          java.util.Map.of("verity.task", onnx.metadata().get("verity.task")));
      assertEquals(ranges, ActivationRanges.measure(bare, rows));
      assertTrue(ranges.range(m.inputName()).orElseThrow().length >= 1);
    }
  }

  /** ORT's accuracy meets the bar and matches what training measured (one near-tie allowed). */
  private static void checkAccuracy(ExampleModel published, int right, int total) {
    double accuracy = (double) right / total;
    assertTrue(accuracy >= MIN_ACCURACY,
        published.name() + " held-out accuracy " + accuracy + " is below " + MIN_ACCURACY);
    assertEquals(total, published.heldOutSize());
    assertEquals(published.heldOutAccuracy(), accuracy, 1.0 / total + 1e-12);
  }
}
