package dev.verity.models;

import java.util.List;
import java.util.Optional;

/**
 * The example models every Verity node can offer without downloading anything: small networks
 * trained in Java, at first use, on public data sets bundled in this module, and exported as ONNX.
 * Training is deterministic (fixed seeds, fixed data split, float64 with {@link StrictMath}), so
 * every node derives byte-identical ONNX files and thus the same content identifiers.
 *
 * <p>Each ONNX file carries calibration ranges measured on its training split (metadata {@code
 * verity.calibration}, {@link dev.verity.onnx.ActivationRanges}), from which zero-knowledge proofs
 * derive their fixed-point scales; {@link #heldOut} and {@link #training} give the splits.
 *
 * <p>{@link #all()} trains once per JVM (a few seconds in all, on one core) and keeps the results
 * in memory only; callers persist them where they need to.
 */
public final class BuiltinModels {
  /** Repository name of the breast cancer classifier. */
  public static final String BREAST_CANCER = BreastCancerMlp.NAME;
  /** Repository name of the digits classifier. */
  public static final String DIGITS_CNN = DigitsCnn.NAME;

  private BuiltinModels() {}

  private static final class Trained {
    static final List<ExampleModel> ALL = List.of(trainBreastCancer(), trainDigitsCnn());
  }

  /** Every built-in model, trained on first call and then reused. */
  public static List<ExampleModel> all() {
    return Trained.ALL;
  }

  /** The built-in model with this repository name, if there is one. */
  public static Optional<ExampleModel> byName(String name) {
    return all().stream().filter(m -> m.name().equals(name)).findFirst();
  }

  /** The repository names of the built-in models, without training them. */
  public static List<String> names() {
    return List.of(BREAST_CANCER, DIGITS_CNN);
  }

  /**
   * Every held-out example of a built-in model: the test split its {@link
   * ExampleModel#heldOutAccuracy()} is measured on, with true labels (no training needed).
   *
   * @throws IllegalArgumentException for a name that is not a built-in model
   */
  public static List<ExampleModel.Sample> heldOut(String name) {
    return split(name).test();
  }

  /**
   * Every training example of a built-in model, with labels: what it was trained and calibrated on.
   *
   * @throws IllegalArgumentException for a name that is not a built-in model
   */
  public static List<ExampleModel.Sample> training(String name) {
    return split(name).train();
  }

  private record Samples(List<ExampleModel.Sample> train, List<ExampleModel.Sample> test) {}

  private static Samples split(String name) {
    Dataset.Split s;
    long[] shape;
    if (name.equals(BREAST_CANCER)) {
      s = BreastCancerMlp.split();
      shape = new long[] {1, BreastCancerMlp.FEATURES};
    } else if (name.equals(DIGITS_CNN)) {
      s = DigitsCnn.split();
      shape = new long[] {1, 1, DigitsCnn.SIDE, DigitsCnn.SIDE};
    } else {
      throw new IllegalArgumentException("no built-in model named '" + name + "'; built-in: " + names());
    }
    return new Samples(Training.samples(s.train(), shape), Training.samples(s.test(), shape));
  }

  /** Trains the breast cancer classifier afresh (not cached). */
  public static ExampleModel trainBreastCancer() {
    return BreastCancerMlp.example();
  }

  /** Trains the digits classifier afresh (not cached). */
  public static ExampleModel trainDigitsCnn() {
    return DigitsCnn.example();
  }
}
