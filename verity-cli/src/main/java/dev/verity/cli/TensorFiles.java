package dev.verity.cli;

import dev.verity.protocol.ModelManifest;
import dev.verity.protocol.tensor.NamedTensors;
import dev.verity.protocol.tensor.Npy;
import dev.verity.protocol.tensor.TensorJson;
import dev.verity.protocol.tensor.TensorLimits;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

/** Reads and writes tensors files by extension: .json, .npy (one input) or .npz. */
final class TensorFiles {
  private TensorFiles() {}

  static NamedTensors read(Path file, Optional<ModelManifest> manifest) throws IOException {
    String name = file.getFileName().toString().toLowerCase(java.util.Locale.ROOT);
    try (InputStream in = Files.newInputStream(file)) {
      if (name.endsWith(".json")) {
        return TensorJson.read(in, TensorLimits.DEFAULT);
      }
      if (name.endsWith(".npz")) {
        return Npy.readNpz(in, TensorLimits.DEFAULT);
      }
      if (name.endsWith(".npy")) {
        ModelManifest m = manifest.orElseThrow(() -> new IllegalArgumentException(
            "a .npy file holds one unnamed array; use .json or .npz, which name their tensors"));
        if (m.inputs().size() != 1) {
          throw new IllegalArgumentException("the model has " + m.inputs().size() + " inputs; pass them as .npz or .json");
        }
        String input = m.inputs().get(0).name();
        return NamedTensors.of(input, Npy.read(in, input, TensorLimits.DEFAULT));
      }
    }
    throw new IllegalArgumentException("unknown tensor file type '" + file + "': use .json, .npy or .npz");
  }

  static void write(Path file, NamedTensors tensors) throws IOException {
    String name = file.getFileName().toString().toLowerCase(java.util.Locale.ROOT);
    byte[] bytes = name.endsWith(".npz") ? Npy.toNpz(tensors) : TensorJson.toBytes(tensors);
    Files.write(file, bytes);
  }
}
