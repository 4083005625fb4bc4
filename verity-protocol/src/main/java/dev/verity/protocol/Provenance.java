package dev.verity.protocol;

import dev.verity.core.DecodingException;
import dev.verity.core.cbor.CborValue;
import java.util.Set;

/**
 * Where a result came from: the engine and its version, the execution provider that ran it, the
 * Verity node software version and the platform. Recorded in every receipt so that a result can be
 * traced and, for reproducible modes, re-executed under the same conditions.
 */
public record Provenance(
    String engine,
    String engineVersion,
    String executionProvider,
    String nodeVersion,
    String os,
    String arch,
    String jvm) {

  public Provenance {
    for (String s : new String[] {engine, engineVersion, executionProvider, nodeVersion, os, arch, jvm}) {
      if (s == null || s.length() > 200) {
        throw new DecodingException("provenance fields must be present and at most 200 characters");
      }
    }
  }

  /** The platform part filled in from this JVM. */
  public static Provenance ofThisPlatform(String engine, String engineVersion, String provider, String nodeVersion) {
    return new Provenance(
        engine,
        engineVersion,
        provider,
        nodeVersion,
        System.getProperty("os.name", "unknown"),
        System.getProperty("os.arch", "unknown"),
        System.getProperty("java.vendor", "unknown") + " " + System.getProperty("java.version", "unknown"));
  }

  public CborValue.Map toCbor() {
    return CborValue.Map.builder()
        .put("engine", engine)
        .put("engine_version", engineVersion)
        .put("provider", executionProvider)
        .put("node_version", nodeVersion)
        .put("os", os)
        .put("arch", arch)
        .put("jvm", jvm)
        .build();
  }

  public static Provenance fromCbor(CborValue.Map m) {
    m.requireOnly(Set.of("engine", "engine_version", "provider", "node_version", "os", "arch", "jvm"));
    return new Provenance(
        m.getText("engine"),
        m.getText("engine_version"),
        m.getText("provider"),
        m.getText("node_version"),
        m.getText("os"),
        m.getText("arch"),
        m.getText("jvm"));
  }
}
