package dev.verity.zk;

import dev.verity.protocol.tensor.NamedTensors;
import java.util.Objects;

/**
 * Proves inferences of one compiled ONNX model: holds its proving key (the weight commitment,
 * computed once) and turns request inputs into outputs and zk evidence. Immutable and thread-safe;
 * a node keeps one per model.
 */
public final class ModelProver {
  private final CompiledModel model;
  private final ProvingKey key;

  private ModelProver(CompiledModel model) {
    this.model = model;
    try {
      this.key = ProvingKey.of(model.quantized());
    } catch (IllegalArgumentException e) {
      throw new UnsupportedModelException("the compiled network cannot be laid out as a circuit: " + e.getMessage());
    }
  }

  /**
   * Prepares a compiled model for proving (commits to its weights).
   *
   * @throws UnsupportedModelException if the network exceeds what the circuit can hide or hold
   */
  public static ModelProver of(CompiledModel model) {
    return new ModelProver(Objects.requireNonNull(model));
  }

  public CompiledModel model() {
    return model;
  }

  public VerifyingKey verifyingKey() {
    return key.verifyingKey();
  }

  /** The outputs of one inference and the evidence that proves them. */
  public record Proved(NamedTensors outputs, ZkEvidence evidence) {}

  /**
   * Encodes the inputs, runs the integer network, proves the result and decodes the outputs.
   *
   * @param blinding the input commitment's randomness: fresh for every proof; whoever should be
   *     able to open the commitment keeps it
   * @throws IllegalArgumentException for inputs that are not exactly the model's one input of batch 1
   * @throws ArithmeticException if the input drives an activation beyond int16 (outside what the
   *     calibration ranges allow for, with their headroom)
   */
  public Proved prove(NamedTensors inputs, Blinding blinding) {
    long[] x = model.encodeInput(inputs);
    ProvedInference p = ZkInference.prove(key, x, blinding);
    return new Proved(model.outputs(p.statement().output()), ZkEvidence.of(p));
  }
}
