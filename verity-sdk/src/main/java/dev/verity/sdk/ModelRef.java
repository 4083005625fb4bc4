package dev.verity.sdk;

import dev.verity.core.Cid;
import dev.verity.core.DecodingException;
import dev.verity.core.crypto.Address;
import dev.verity.protocol.ModelManifest;
import dev.verity.protocol.Names;
import java.util.Optional;

/**
 * Names a model version: {@code <owner address>/<repository>@<version>}, {@code
 * <owner>/<repository>} for its newest version that is not yanked, or a manifest CID. The client
 * checks that the manifest a node returns is the one this reference names.
 */
public record ModelRef(Optional<Address> owner, Optional<String> repository, Optional<String> version, Optional<Cid> manifest) {

  public static ModelRef of(Address owner, String repository, String version) {
    return new ModelRef(Optional.of(owner), Optional.of(Names.repository(repository)), Optional.of(Names.version(version)), Optional.empty());
  }

  public static ModelRef latest(Address owner, String repository) {
    return new ModelRef(Optional.of(owner), Optional.of(Names.repository(repository)), Optional.empty(), Optional.empty());
  }

  public static ModelRef ofManifest(Cid cid) {
    return new ModelRef(Optional.empty(), Optional.empty(), Optional.empty(), Optional.of(cid));
  }

  /** Parses "owner/repo@version", "owner/repo" or a manifest CID. */
  public static ModelRef parse(String text) {
    if (text == null || text.isBlank()) {
      throw new DecodingException("empty model reference");
    }
    if (text.startsWith("b") && !text.contains("/")) {
      return ofManifest(Cid.parse(text));
    }
    int slash = text.indexOf('/');
    if (slash < 0) {
      throw new DecodingException("model reference '" + text + "' must be OWNER/REPO[@VERSION] or a manifest CID");
    }
    Address owner = Address.parse(text.substring(0, slash));
    String rest = text.substring(slash + 1);
    int at = rest.indexOf('@');
    return at < 0 ? latest(owner, rest) : of(owner, rest.substring(0, at), rest.substring(at + 1));
  }

  /** The API path of this version, e.g. /v1/models/vt.../breast-cancer/1.0. */
  String path() {
    if (manifest.isPresent()) {
      return "/v1/manifests/" + manifest.get();
    }
    return "/v1/models/" + owner.orElseThrow() + "/" + repository.orElseThrow() + "/" + version.orElse("latest");
  }

  /** Whether {@code m} is the version this reference names. */
  public boolean matches(ModelManifest m) {
    if (manifest.isPresent()) {
      return manifest.get().equals(m.cid());
    }
    return owner.get().equals(m.ownerAddress())
        && repository.get().equals(m.repository())
        && version.map(v -> v.equals(m.version())).orElse(true);
  }

  @Override
  public String toString() {
    return manifest.map(Cid::toString)
        .orElseGet(() -> owner.get() + "/" + repository.get() + version.map(v -> "@" + v).orElse(""));
  }
}
