package dev.verity.runtime;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Objects;

/**
 * Where an ONNX model comes from: a file, which the runtime reads itself, or bytes in memory.
 * Instances are immutable: bytes are copied when the source is made.
 */
public sealed interface ModelSource {

  /** A model file; it must stay unchanged while it is being loaded. */
  static ModelSource file(Path path) {
    return new FileSource(path);
  }

  /** A model held in memory (copied). */
  static ModelSource bytes(byte[] model) {
    return new BytesSource(model.clone());
  }

  /**
   * The size of the model in bytes.
   *
   * @throws ModelLoadException if the file cannot be read
   */
  long sizeBytes();

  /** A short description for error messages. */
  String describe();

  /** A model file on disk. */
  record FileSource(Path path) implements ModelSource {
    public FileSource {
      Objects.requireNonNull(path, "path");
    }

    @Override
    public long sizeBytes() {
      try {
        return Files.size(path);
      } catch (IOException e) {
        throw new ModelLoadException("cannot read model file " + path + ": " + e.getMessage(), e);
      }
    }

    @Override
    public String describe() {
      return "model file " + path;
    }
  }

  /** A model in memory. The array is owned by this object and never handed out. */
  final class BytesSource implements ModelSource {
    private final byte[] model;

    private BytesSource(byte[] model) {
      this.model = model;
    }

    /** The bytes themselves, for engines in this package that promise not to modify them. */
    byte[] sharedBytes() {
      return model;
    }

    @Override
    public long sizeBytes() {
      return model.length;
    }

    @Override
    public String describe() {
      return "in-memory model of " + model.length + " bytes";
    }
  }
}
