package dev.verity.sdk;

import dev.verity.core.crypto.PublicKey;
import java.util.List;

/** What a node says about itself at {@code GET /v1/node}. */
public record NodeInfo(PublicKey publicKey, String version, String engine, String engineVersion, String executionProvider, List<String> modes) {}
