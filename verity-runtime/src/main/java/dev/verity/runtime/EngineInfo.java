package dev.verity.runtime;

import java.util.Objects;

/**
 * Which software ran a model: recorded in receipts so that a verifier can reproduce the run with
 * the same engine.
 *
 * @param engine the engine's name, such as "onnxruntime"
 * @param version the engine library's version, such as "1.22.0"
 * @param executionProvider the provider the session was created for, after any fallback; with
 *     CUDA, ONNX Runtime may still place individual operators it has no GPU kernel for on the CPU
 */
public record EngineInfo(String engine, String version, ExecutionProvider executionProvider) {
  public EngineInfo {
    Objects.requireNonNull(engine, "engine");
    Objects.requireNonNull(version, "version");
    Objects.requireNonNull(executionProvider, "executionProvider");
    if (engine.isEmpty() || version.isEmpty()) {
      throw new IllegalArgumentException("engine name and version must not be empty");
    }
  }

  @Override
  public String toString() {
    return engine + " " + version + " (" + executionProvider.wireName() + ")";
  }
}
