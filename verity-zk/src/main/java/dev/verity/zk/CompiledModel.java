package dev.verity.zk;

import dev.verity.core.Cid;
import dev.verity.protocol.tensor.ElementType;
import dev.verity.protocol.tensor.NamedTensors;
import dev.verity.protocol.tensor.Tensor;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;

/**
 * An ONNX model compiled for proofs ({@link OnnxCompiler}): the {@link QuantizedModel} a proof is
 * about, and the two public functions around it that connect it to the ONNX model's tensors.
 *
 * <ul>
 *   <li><b>Input encoding</b> ({@link #encodeInput}): each float input value x of channel c becomes
 *       the integer clamp(rint(x * 2^{e_c}), -2^15, 2^15 - 1), in row-major (channel-major) order.
 *       The proof's input commitment is to these integers.
 *   <li><b>Output decoding</b> ({@link #decodeOutput}): the proven integer outputs y (the exact
 *       accumulators of the last layer) are logits y * 2^{-e}; the ONNX output is the softmax of
 *       the logits (computed in float64 with {@link StrictMath#exp}, then rounded to float32) when
 *       the model ends in Softmax, else the logits rounded to float32. Both are deterministic, so a
 *       verifier recomputes the outputs from the proven integers bit for bit.
 * </ul>
 *
 * Immutable and thread-safe.
 */
public final class CompiledModel {
  private static final int LIMIT = 1 << 15;

  private final QuantizedModel model;
  private final String inputName;
  private final long[] inputDims;
  private final int[] inputExponents;
  private final String outputName;
  private final long[] outputDims;
  private final int outputExponent;
  private final boolean softmax;

  CompiledModel(QuantizedModel model, String inputName, long[] inputDims, int[] inputExponents, String outputName,
      long[] outputDims, int outputExponent, boolean softmax) {
    this.model = Objects.requireNonNull(model);
    this.inputName = inputName;
    this.inputDims = inputDims.clone();
    this.inputExponents = inputExponents.clone();
    this.outputName = outputName;
    this.outputDims = outputDims.clone();
    this.outputExponent = outputExponent;
    this.softmax = softmax;
  }

  /** The integer network proofs are about. */
  public QuantizedModel quantized() {
    return model;
  }

  public Cid cid() {
    return model.cid();
  }

  /** The ONNX input's name. */
  public String inputName() {
    return inputName;
  }

  /** The ONNX input's shape for one example (batch 1). */
  public long[] inputDims() {
    return inputDims.clone();
  }

  /** The ONNX output's name. */
  public String outputName() {
    return outputName;
  }

  /** The ONNX output's shape for one example (batch 1). */
  public long[] outputDims() {
    return outputDims.clone();
  }

  /** Exponent of each input channel: channel c's values are scaled by 2^{e_c}. */
  public int[] inputExponents() {
    return inputExponents.clone();
  }

  /** The proven outputs are the logits times 2^{outputExponent}. */
  public int outputExponent() {
    return outputExponent;
  }

  /** Whether the ONNX model ends in a Softmax, which the output decoding applies. */
  public boolean softmax() {
    return softmax;
  }

  /**
   * The integers a float input (one example, row-major) is encoded as.
   *
   * @throws IllegalArgumentException for the wrong number of values or a value that is not finite
   */
  public long[] encodeInput(float[] values) {
    Shape s = model.architecture().inputShape();
    if (values.length != s.size()) {
      throw new IllegalArgumentException("input '" + inputName + "' needs " + s.size() + " values, got " + values.length);
    }
    int plane = s.height() * s.width();
    long[] out = new long[values.length];
    for (int i = 0; i < values.length; i++) {
      if (!Float.isFinite(values[i])) {
        throw new IllegalArgumentException("input value " + i + " is not finite: " + values[i]);
      }
      double v = Math.rint(Math.scalb((double) values[i], inputExponents[i / plane]));
      out[i] = (long) Math.max(-LIMIT, Math.min(LIMIT - 1, v));
    }
    return out;
  }

  /**
   * The integers an inference request's inputs are encoded as: exactly the model's one input,
   * float32, of shape {@link #inputDims()}.
   */
  public long[] encodeInput(NamedTensors inputs) {
    if (inputs.size() != 1 || !inputs.names().contains(inputName)) {
      throw new IllegalArgumentException("a zk inference takes exactly the input '" + inputName + "', got " + inputs.names());
    }
    Tensor t = inputs.get(inputName);
    if (t.type() != ElementType.FLOAT32 || !Arrays.equals(t.shape(), inputDims)) {
      throw new IllegalArgumentException("input '" + inputName + "' must be float32 of shape " + Arrays.toString(inputDims)
          + " (one example per proof), got " + t.type().wireName() + " " + Arrays.toString(t.shape()));
    }
    return encodeInput(t.toFloats());
  }

  /** Runs the integer network on an encoded input (the statement's output). */
  public long[] run(long[] encodedInput) {
    return model.run(encodedInput);
  }

  /** The logits the integer outputs stand for. */
  public double[] logits(long[] output) {
    double[] z = new double[output.length];
    for (int i = 0; i < z.length; i++) {
      z[i] = Math.scalb((double) output[i], -outputExponent);
    }
    return z;
  }

  /** The ONNX output's values computed from the integer outputs (see the class comment). */
  public float[] decodeOutput(long[] output) {
    if (output.length != model.architecture().outputShape().size()) {
      throw new IllegalArgumentException("the model has " + model.architecture().outputShape().size() + " outputs, got "
          + output.length);
    }
    double[] z = logits(output);
    if (softmax) {
      dev.verity.onnx.ReferenceInference.softmaxInPlace(z, 0, z.length);
    }
    float[] out = new float[z.length];
    for (int i = 0; i < z.length; i++) {
      out[i] = (float) z[i];
    }
    return out;
  }

  /** The outputs of an inference as a node returns them in zk mode. */
  public NamedTensors outputs(long[] output) {
    return NamedTensors.of(outputName, Tensor.ofFloats(outputDims, decodeOutput(output)));
  }

  /** The layers in words, for logs and docs. */
  public String describe() {
    List<String> parts = model.architecture().layers().stream().map(l -> switch (l) {
      case Layer.Dense d -> "dense " + d.outputs();
      case Layer.Conv2d c -> "conv " + c.outChannels() + "@" + c.kernel() + "x" + c.kernel();
      case Layer.Requant r -> "requant >>" + r.shift() + (r.relu() ? " relu" : "");
      case Layer.MaxPool m -> "maxpool";
      case Layer.SumPool p -> "sumpool";
      case Layer.Add a -> "add";
    }).toList();
    return model.architecture().inputShape() + " -> " + String.join(", ", parts) + " -> logits x 2^" + outputExponent
        + (softmax ? ", softmax" : "");
  }

  @Override
  public String toString() {
    return "CompiledModel[" + model.cid() + ": " + describe() + "]";
  }
}
