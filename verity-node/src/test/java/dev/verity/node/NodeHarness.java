package dev.verity.node;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.verity.core.Hash;
import dev.verity.core.crypto.Signer;
import dev.verity.models.ExampleModel;
import dev.verity.protocol.ModelManifest;
import dev.verity.protocol.RequestSignature;
import dev.verity.protocol.tensor.NamedTensors;
import dev.verity.protocol.tensor.Tensor;
import dev.verity.protocol.tensor.TensorJson;
import dev.verity.runtime.ExecutionProvider;
import dev.verity.runtime.LoadedModel;
import dev.verity.runtime.ModelSource;
import dev.verity.runtime.OnnxRuntimeEngine;
import dev.verity.runtime.SessionConfig;
import dev.verity.sdk.VerityClient;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpHeaders;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Set;

/**
 * What the node's integration tests share: starting a real node on a temporary directory, SDK
 * clients that trust only that node's key, raw HTTP for requests the SDK would never send, the
 * problem-document contract, and running a model with ONNX Runtime directly for comparison.
 */
final class NodeHarness {
  static final ObjectMapper JSON = new ObjectMapper();
  static final HttpClient HTTP = HttpClient.newBuilder()
      .version(HttpClient.Version.HTTP_1_1)
      .connectTimeout(Duration.ofSeconds(10))
      .build();

  private NodeHarness() {}

  /** A node with every default setting but its data directory, on a free port. */
  static VerityNode start(Path dataDir) throws IOException {
    return VerityNode.start(NodeConfig.defaults().withDataDir(dataDir).withPort(0));
  }

  /** A client that signs with {@code key} and accepts receipts from this node's key only. */
  static VerityClient client(VerityNode node, Signer key) {
    return VerityClient.builder(node.uri()).signer(key).trustNodes(Set.of(node.publicKey())).build();
  }

  /** A client without a key (it cannot publish and is anonymous to the node). */
  static VerityClient anonymousClient(VerityNode node) {
    return VerityClient.builder(node.uri()).trustNodes(Set.of(node.publicKey())).build();
  }

  static Path write(Path dir, String name, byte[] bytes) {
    try {
      Files.createDirectories(dir);
      return Files.write(dir.resolve(name), bytes);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** The inputs of one held-out sample of a built-in model. */
  static NamedTensors sampleInputs(ExampleModel model, int sample) {
    ExampleModel.Sample s = model.samples().get(sample);
    return NamedTensors.of(model.inputName(), Tensor.ofFloats(s.shape(), s.values()));
  }

  /** The engine settings a node with {@code config} runs its models with. */
  static SessionConfig sessionConfig(NodeConfig config) {
    return SessionConfig.builder()
        .intraOpThreads(config.intraOpThreads())
        .interOpThreads(config.interOpThreads())
        .executionProvider(ExecutionProvider.fromWireName(config.executionProvider()))
        .build();
  }

  /** Runs {@code file} once with ONNX Runtime directly, as a node with {@code config} would. */
  static NamedTensors runDirectly(Path file, NodeConfig config, NamedTensors inputs) {
    try (OnnxRuntimeEngine engine = OnnxRuntimeEngine.create();
        LoadedModel model = engine.load(ModelSource.file(file), sessionConfig(config))) {
      return model.run(inputs);
    }
  }

  /** The API path of a published version. */
  static String versionPath(ModelManifest m) {
    return "/v1/models/" + m.ownerAddress() + "/" + m.repository() + "/" + m.version();
  }

  /** An inference request body as the API describes it: {"inputs": {...}}. */
  static byte[] inferJson(NamedTensors inputs) {
    String tensors = new String(TensorJson.toBytes(inputs), StandardCharsets.UTF_8);
    return ("{\"inputs\":" + tensors + "}").getBytes(StandardCharsets.UTF_8);
  }

  // ---- raw HTTP ----------------------------------------------------------------------------

  /** A response read whole. */
  record Response(int status, HttpHeaders headers, byte[] body) {
    JsonNode json() {
      try {
        return JSON.readTree(body);
      } catch (IOException e) {
        throw new AssertionError("response is not JSON: " + text(), e);
      }
    }

    String text() {
      return new String(body, StandardCharsets.UTF_8);
    }

    String header(String name) {
      return headers.firstValue(name).orElse(null);
    }
  }

  static HttpRequest.Builder request(URI base, String path) {
    return HttpRequest.newBuilder(base.resolve(path)).timeout(Duration.ofMinutes(2));
  }

  static Response send(HttpRequest request) {
    try {
      HttpResponse<byte[]> r = HTTP.send(request, HttpResponse.BodyHandlers.ofByteArray());
      return new Response(r.statusCode(), r.headers(), r.body());
    } catch (IOException e) {
      throw new UncheckedIOException("request " + request.method() + " " + request.uri() + " failed", e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  static Response get(URI base, String path) {
    return send(request(base, path).GET().build());
  }

  static Response post(URI base, String path, String contentType, byte[] body) {
    return send(request(base, path).header("Content-Type", contentType)
        .POST(HttpRequest.BodyPublishers.ofByteArray(body)).build());
  }

  /** A POST signed by {@code key} now, as the SDK signs it. */
  static Response signedPost(URI base, Signer key, String path, String contentType, byte[] body) {
    return send(request(base, path).header("Content-Type", contentType)
        .header("Authorization", authorization(key, "POST", path, body, System.currentTimeMillis()))
        .POST(HttpRequest.BodyPublishers.ofByteArray(body)).build());
  }

  static String authorization(Signer key, String method, String pathAndQuery, byte[] body, long timeMillis) {
    return RequestSignature.sign(key, method, pathAndQuery, timeMillis, Hash.of(body)).toHeader();
  }

  /**
   * Checks the error contract of the API: the status, an application/problem+json body with type,
   * title, status, detail and request_id, and the request id echoed in X-Request-Id.
   *
   * @return the problem document
   */
  static JsonNode assertProblem(Response r, int status) {
    assertEquals(status, r.status(), () -> "status of response " + r.text());
    String type = r.header("Content-Type");
    assertTrue(type != null && type.startsWith("application/problem+json"), () -> "content type " + type + " of " + r.text());
    JsonNode p = r.json();
    assertTrue(p.path("type").asText().startsWith("/problems/"), () -> "problem type in " + r.text());
    assertFalse(p.path("title").asText().isBlank(), () -> "problem title in " + r.text());
    assertEquals(status, p.path("status").asInt(), () -> "problem status in " + r.text());
    assertFalse(p.path("detail").asText().isBlank(), () -> "problem detail in " + r.text());
    String requestId = r.header("X-Request-Id");
    assertTrue(requestId != null && !requestId.isBlank(), "X-Request-Id header");
    assertEquals(requestId, p.path("request_id").asText(), "request_id in the problem is the X-Request-Id header");
    return p;
  }

  /** {@link #assertProblem} and that the detail mentions {@code expected}. */
  static JsonNode assertProblem(Response r, int status, String expected) {
    JsonNode p = assertProblem(r, status);
    String detail = p.path("detail").asText();
    assertTrue(detail.contains(expected), () -> "detail '" + detail + "' should mention '" + expected + "'");
    return p;
  }
}
