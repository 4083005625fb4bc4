package dev.verity.runtime;

/**
 * Something that turns ONNX model files into runnable {@link LoadedModel}s.
 *
 * <p>Contract:
 *
 * <ul>
 *   <li>{@link #load} either returns a model ready to run or throws {@link ModelLoadException}
 *       saying what is wrong with the file or the configuration; hostile files (truncated, random
 *       bytes, absurd dimensions, external data references) are refused with that exception.
 *   <li>Loaded models are independent of each other and safe to run from many threads at once.
 *   <li>Closing the engine does not close models it loaded; each model is closed by its owner.
 *   <li>Implementations hold no process-wide mutable state of their own.
 * </ul>
 */
public interface InferenceEngine extends AutoCloseable {

  /** The engine's name as written into receipts, such as "onnxruntime". */
  String name();

  /** The version of the underlying runtime library, such as "1.22.0". */
  String version();

  /**
   * Loads a model.
   *
   * @param source where the ONNX model comes from
   * @param config how the session is set up, and the limits on the tensors it accepts
   * @throws ModelLoadException if the model is malformed, declares tensors Verity cannot carry or
   *     that exceed {@code config.limits()}, or the configuration cannot be honoured
   */
  LoadedModel load(ModelSource source, SessionConfig config);

  /** Releases what the engine itself holds; models it loaded stay usable until closed. */
  @Override
  void close();
}
