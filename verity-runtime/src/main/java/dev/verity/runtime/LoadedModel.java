package dev.verity.runtime;

import dev.verity.protocol.tensor.NamedTensors;
import dev.verity.protocol.tensor.TensorSpec;
import java.util.List;

/**
 * A model loaded into an engine, ready to run.
 *
 * <p>Contract:
 *
 * <ul>
 *   <li>{@link #inputs()} and {@link #outputs()} are the tensors as the runtime reports them, in
 *       the model's order; dynamic axes are {@link dev.verity.protocol.tensor.Dim#dynamic}.
 *   <li>{@link #run} checks every input against {@link #signature()} (names, element types,
 *       shapes, shared symbolic axes, size limits) before any data reaches native code, and throws
 *       {@link InvalidInputException} naming the offending tensor otherwise.
 *   <li>{@link #run} is safe to call from many threads at once.
 *   <li>{@link #close()} is idempotent. Runs already in flight finish normally and native memory is
 *       released when the last of them returns; runs started after close throw {@link
 *       IllegalStateException}.
 * </ul>
 */
public interface LoadedModel extends AutoCloseable {

  /** The model's inputs and outputs and the limits on what it accepts. */
  ModelSignature signature();

  default List<TensorSpec> inputs() {
    return signature().inputs();
  }

  default List<TensorSpec> outputs() {
    return signature().outputs();
  }

  /** Which engine, version and execution provider run this model, for receipt provenance. */
  EngineInfo info();

  /**
   * Runs the model once.
   *
   * @return every output of the model, by name
   * @throws InvalidInputException if the inputs do not fit the signature
   * @throws InferenceException if the runtime fails while running (the inputs fitted the signature)
   */
  NamedTensors run(NamedTensors inputs);

  @Override
  void close();
}
