package dev.verity.node;

import dev.verity.core.DecodingException;
import dev.verity.core.VerificationException;
import dev.verity.core.crypto.Address;
import dev.verity.hub.BlobStore;
import dev.verity.hub.ModelRegistry;
import dev.verity.node.http.ApiException;
import dev.verity.onnx.ModelSignatures;
import dev.verity.onnx.OnnxModelInfo;
import dev.verity.onnx.OnnxReader;
import dev.verity.protocol.ModelManifest;
import dev.verity.protocol.VerificationMode;
import dev.verity.protocol.tensor.TensorSpec;
import dev.verity.runtime.ModelLoadException;
import dev.verity.runtime.ModelSource;
import dev.verity.runtime.SessionCache;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;

/**
 * Accepts a new model version. In order: the manifest decodes and its signature (and delegation)
 * verifies; it is for the repository in the URL and was signed by the caller; the version does not
 * exist yet; its model blob is stored with the declared size; the ONNX file parses and declares
 * exactly the inputs, outputs and opsets the manifest states; when the manifest allows mode {@code
 * optimistic}, the canonical executor runs every operator of it; ONNX Runtime can load it. Only then is
 * the version recorded, so a rejected publication leaves nothing behind in the registry.
 */
final class PublishService {
  private final BlobStore blobs;
  private final ModelRegistry registry;
  private final ModelFiles files;
  private final SessionCache sessions;
  private final UploadRetention uploads;

  PublishService(BlobStore blobs, ModelRegistry registry, ModelFiles files, SessionCache sessions,
      UploadRetention uploads) {
    this.uploads = uploads;
    this.blobs = blobs;
    this.registry = registry;
    this.files = files;
    this.sessions = sessions;
  }

  ModelManifest publish(Address owner, String repo, byte[] manifestBytes, Address caller) throws IOException {
    ModelManifest m;
    try {
      m = ModelManifest.decode(manifestBytes);
      m.verify();
    } catch (DecodingException e) {
      throw ApiException.badRequest("malformed manifest: " + e.getMessage());
    } catch (VerificationException e) {
      throw new ApiException(400, "invalid-signature", "Invalid signature", "the manifest does not verify: " + e.getMessage());
    }
    if (!m.ownerAddress().equals(owner) || !m.repository().equals(repo)) {
      throw ApiException.forbidden("the manifest is for " + m.repositoryId() + ", not " + owner + "/" + repo
          + "; only a repository's owner (or its delegate) can publish to it");
    }
    if (!m.publisher().address().equals(caller)) {
      throw ApiException.forbidden("the request is signed by " + caller + " but the manifest by " + m.publisher().address());
    }
    if (registry.version(owner, repo, m.version()).isPresent()) {
      throw ApiException.conflict("version '" + m.version() + "' of " + m.repositoryId()
          + " already exists; versions are immutable, publish a new version");
    }
    if (!blobs.contains(m.model())) {
      throw ApiException.badRequest("model blob " + m.model() + " is not on this node; upload it first (POST /v1/blobs)");
    }
    long size = blobs.size(m.model());
    if (size != m.modelSize()) {
      throw ApiException.badRequest("the manifest says the model has " + m.modelSize() + " bytes, the blob has " + size);
    }
    Path file = files.materialize(m.model());
    OnnxModelInfo info;
    try {
      info = OnnxReader.readInfo(file);
    } catch (DecodingException e) {
      throw ApiException.badRequest("the model is not a valid ONNX file: " + e.getMessage());
    }
    List<TensorSpec> inputs;
    List<TensorSpec> outputs;
    try {
      inputs = ModelSignatures.inputs(info);
      outputs = ModelSignatures.outputs(info);
    } catch (DecodingException e) {
      throw ApiException.badRequest("the model cannot be served by Verity: " + e.getMessage());
    }
    same("inputs", m.inputs(), inputs);
    same("outputs", m.outputs(), outputs);
    if (!m.opsets().equals(ModelSignatures.opsets(info))) {
      throw ApiException.badRequest("the manifest declares opsets " + m.opsets() + ", the ONNX file imports " + ModelSignatures.opsets(info));
    }
    if (m.modes().contains(VerificationMode.OPTIMISTIC)) {
      if (m.modelSize() > CanonicalRuns.MAX_MODEL_BYTES) {
        throw ApiException.badRequest("mode 'optimistic' runs models up to " + CanonicalRuns.MAX_MODEL_BYTES
            + " bytes; this one has " + m.modelSize() + "; remove 'optimistic' from the manifest's modes");
      }
      CanonicalRuns.checkSupported(java.nio.file.Files.readAllBytes(file));
    }
    try (SessionCache.Lease lease = sessions.acquire(m.model(), () -> ModelSource.file(file))) {
      sameAsRuntime("inputs (as ONNX Runtime reads them)", shapesOnly(m.inputs()), shapesOnly(lease.model().inputs()));
    } catch (ModelLoadException e) {
      throw ApiException.badRequest("ONNX Runtime cannot load the model: " + e.getMessage());
    }
    return uploads.recordVersion(m.model(), () -> {
      try {
        return registry.publish(m).manifest();
      } catch (ModelRegistry.VersionExistsException e) {
        throw ApiException.conflict(e.getMessage());
      } catch (VerificationException e) {
        throw ApiException.badRequest(e.getMessage());
      }
    });
  }

  private static void same(String what, List<TensorSpec> declared, List<TensorSpec> actual) {
    if (!declared.equals(actual)) {
      throw ApiException.badRequest("the manifest declares " + what + " " + describe(declared) + " but the ONNX file has " + describe(actual));
    }
  }

  /** Names, types and ranks: what must agree with the runtime, which does not report axis names. */
  private static List<String> shapesOnly(List<TensorSpec> specs) {
    return specs.stream().map(s -> s.name() + ":" + s.type().wireName() + ":" + s.shape().size()).sorted().toList();
  }

  private static void sameAsRuntime(String what, List<String> declared, List<String> actual) {
    if (!declared.equals(actual)) {
      throw ApiException.badRequest("the manifest declares " + what + " " + declared + " but ONNX Runtime reports " + actual);
    }
  }

  private static String describe(List<TensorSpec> specs) {
    return specs.stream().map(s -> s.name() + " " + s.type().wireName() + s.shapeText()).toList().toString();
  }
}
