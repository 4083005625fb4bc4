package dev.verity.sdk;

import dev.verity.core.crypto.Address;
import dev.verity.protocol.ModelManifest;
import dev.verity.protocol.VerificationMode;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;

/**
 * What an owner states when publishing a version; inputs, outputs and opsets are read from the
 * ONNX file itself, never typed in.
 */
public record Publication(
    String repository,
    String version,
    String task,
    String license,
    String description,
    List<String> tags,
    long price,
    Set<VerificationMode> modes,
    ModelManifest.Visibility visibility,
    List<Address> allowList) {

  public Publication {
    tags = List.copyOf(tags);
    modes = Set.copyOf(modes);
    allowList = List.copyOf(allowList);
  }

  /** A public version in receipt mode, free of charge, with empty descriptive fields. */
  public static Publication of(String repository, String version) {
    return new Publication(repository, version, "", "", "", List.of(), 0, EnumSet.of(VerificationMode.RECEIPT),
        ModelManifest.Visibility.PUBLIC, List.of());
  }

  public Publication withDetails(String task, String license, String description, List<String> tags) {
    return new Publication(repository, version, task, license, description, tags, price, modes, visibility, allowList);
  }

  public Publication withPrice(long p) {
    return new Publication(repository, version, task, license, description, tags, p, modes, visibility, allowList);
  }

  public Publication withModes(Set<VerificationMode> m) {
    return new Publication(repository, version, task, license, description, tags, price, m, visibility, allowList);
  }

  public Publication privateTo(List<Address> allowed) {
    return new Publication(repository, version, task, license, description, tags, price, modes,
        ModelManifest.Visibility.PRIVATE, allowed);
  }
}
