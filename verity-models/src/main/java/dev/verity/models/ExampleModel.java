package dev.verity.models;

import dev.verity.core.Cid;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;

/**
 * A built-in example model: a small network trained in Java on a bundled public data set and
 * exported as an ONNX file. Immutable; byte arrays are copied in and out.
 *
 * @param name the repository name models are published under, such as {@code breast-cancer}
 * @param description what the model does, its input and output, for people
 * @param task the kind of model; {@code classification} for every built-in model
 * @param dataLicence the licence and origin of the training data
 * @param onnx the ONNX file
 * @param inputName the model's one input
 * @param outputName the model's one output: class probabilities, one column per label
 * @param classLabels the label of each output column, in order
 * @param samples a few held-out examples with their true labels, ready to feed to the model
 * @param heldOutAccuracy fraction of the held-out split the exported model classifies correctly
 * @param heldOutSize number of held-out examples
 */
public record ExampleModel(
    String name,
    String description,
    String task,
    String dataLicence,
    byte[] onnx,
    String inputName,
    String outputName,
    List<String> classLabels,
    List<Sample> samples,
    double heldOutAccuracy,
    int heldOutSize) {

  /** The task of every built-in model. */
  public static final String CLASSIFICATION = "classification";

  /**
   * One input example: the values of a single-row input tensor in row-major order, its shape
   * (batch dimension 1), and the true class.
   */
  public record Sample(float[] values, long[] shape, int label) {
    public Sample {
      values = values.clone();
      shape = shape.clone();
      long n = 1;
      for (long d : shape) {
        n *= d;
      }
      if (n != values.length) {
        throw new IllegalArgumentException(
            "shape " + Arrays.toString(shape) + " needs " + n + " values, got " + values.length);
      }
    }

    @Override
    public float[] values() {
      return values.clone();
    }

    @Override
    public long[] shape() {
      return shape.clone();
    }

    @Override
    public boolean equals(Object o) {
      return o instanceof Sample s
          && label == s.label
          && Arrays.equals(values, s.values)
          && Arrays.equals(shape, s.shape);
    }

    @Override
    public int hashCode() {
      return (Arrays.hashCode(values) * 31 + Arrays.hashCode(shape)) * 31 + label;
    }

    @Override
    public String toString() {
      return "Sample[shape=" + Arrays.toString(shape) + ", label=" + label + "]";
    }
  }

  public ExampleModel {
    Objects.requireNonNull(name, "name");
    Objects.requireNonNull(description, "description");
    Objects.requireNonNull(task, "task");
    Objects.requireNonNull(dataLicence, "dataLicence");
    Objects.requireNonNull(inputName, "inputName");
    Objects.requireNonNull(outputName, "outputName");
    onnx = onnx.clone();
    classLabels = List.copyOf(classLabels);
    samples = List.copyOf(samples);
    for (Sample s : samples) {
      if (s.label() < 0 || s.label() >= classLabels.size()) {
        throw new IllegalArgumentException("sample label " + s.label() + " is not a class");
      }
    }
    if (!(heldOutAccuracy >= 0 && heldOutAccuracy <= 1) || heldOutSize < 1) {
      throw new IllegalArgumentException("held-out accuracy must be measured on some examples");
    }
  }

  /** The ONNX file (a copy). */
  @Override
  public byte[] onnx() {
    return onnx.clone();
  }

  /** The content identifier of the ONNX file: the same bytes always give the same CID. */
  public Cid cid() {
    return Cid.raw(onnx);
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof ExampleModel m
        && name.equals(m.name)
        && description.equals(m.description)
        && task.equals(m.task)
        && dataLicence.equals(m.dataLicence)
        && Arrays.equals(onnx, m.onnx)
        && inputName.equals(m.inputName)
        && outputName.equals(m.outputName)
        && classLabels.equals(m.classLabels)
        && samples.equals(m.samples)
        && Double.compare(heldOutAccuracy, m.heldOutAccuracy) == 0
        && heldOutSize == m.heldOutSize;
  }

  @Override
  public int hashCode() {
    return Objects.hash(name, Arrays.hashCode(onnx), heldOutAccuracy);
  }

  @Override
  public String toString() {
    return "ExampleModel[" + name + ", " + onnx.length + " bytes, held-out accuracy "
        + heldOutAccuracy + " on " + heldOutSize + "]";
  }
}
