package dev.verity.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.net.httpserver.HttpServer;
import dev.verity.core.DecodingException;
import dev.verity.core.VerificationException;
import dev.verity.core.crypto.Signer;
import dev.verity.node.NodeConfig;
import dev.verity.node.VerityNode;
import dev.verity.onnx.Dim;
import dev.verity.onnx.ElementType;
import dev.verity.onnx.OnnxModel;
import dev.verity.onnx.OnnxWriter;
import dev.verity.protocol.tensor.NamedTensors;
import dev.verity.protocol.tensor.Npy;
import dev.verity.protocol.tensor.Tensor;
import dev.verity.protocol.tensor.TensorJson;
import dev.verity.protocol.tensor.TensorLimits;
import dev.verity.sdk.InferenceResult;
import dev.verity.sdk.ModelRef;
import dev.verity.sdk.ProgressListener;
import dev.verity.sdk.Publication;
import dev.verity.sdk.VerityClient;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * How inference tensors travel between VerityClient and a node: JSON for small sets, .npz (with the
 * receipt in a header) for large ones, and the client verifies what comes back either way.
 */
class InferenceTransportTest {
  static final int IN = 16;
  static final int OUT = 512;

  @TempDir static Path dir;
  static VerityNode node;
  static Signer owner;
  static ModelRef ref;
  static String inferPath;
  static final HttpClient HTTP = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

  @BeforeAll
  static void publishAModelWithALargeOutput() throws Exception {
    node = VerityNode.start(NodeConfig.defaults().withDataDir(dir.resolve("node")).withPort(0));
    owner = Signer.generate();
    // y = x W with small whole numbers, so every output is exact whatever the summation order.
    float[] w = new float[IN * OUT];
    for (int i = 0; i < IN; i++) {
      for (int j = 0; j < OUT; j++) {
        w[i * OUT + j] = (i + j) % 5 - 2;
      }
    }
    OnnxModel model = OnnxModel.builder()
        .producer("verity-test", "1")
        .input("x", ElementType.FLOAT, Dim.symbolic("N"), Dim.of(IN))
        .output("y", ElementType.FLOAT, Dim.symbolic("N"), Dim.of(OUT))
        .initializer("w", new long[] {IN, OUT}, w)
        .node("MatMul", List.of("x", "w"), List.of("y"))
        .build();
    Path file = dir.resolve("wide.onnx");
    Files.write(file, OnnxWriter.write(model));
    try (VerityClient publisher = VerityClient.builder(node.uri()).signer(owner).build()) {
      publisher.publish(file, Publication.of("wide", "1.0.0"), ProgressListener.NONE);
    }
    ref = ModelRef.of(owner.address(), "wide", "1.0.0");
    inferPath = "/v1/models/" + owner.address() + "/wide/1.0.0/infer";
  }

  @AfterAll
  static void stopNode() throws Exception {
    node.close();
  }

  static NamedTensors inputs(int batch) {
    float[] x = new float[batch * IN];
    for (int i = 0; i < x.length; i++) {
      x[i] = i % IN + 1;
    }
    return NamedTensors.of("x", Tensor.ofFloats(new long[] {batch, IN}, x));
  }

  static float[] expected(int batch) {
    float[] y = new float[batch * OUT];
    for (int b = 0; b < batch; b++) {
      for (int j = 0; j < OUT; j++) {
        float s = 0;
        for (int i = 0; i < IN; i++) {
          s += (i + 1) * (float) ((i + j) % 5 - 2);
        }
        y[b * OUT + j] = s;
      }
    }
    return y;
  }

  static HttpResponse<byte[]> post(NamedTensors inputs, String accept) throws Exception {
    HttpRequest.Builder r = HttpRequest.newBuilder(node.uri().resolve(inferPath)).header("Content-Type", "application/json")
        .POST(HttpRequest.BodyPublishers.ofString("{\"inputs\":" + new String(TensorJson.toBytes(inputs)) + "}"));
    if (accept != null) {
      r.header("Accept", accept);
    }
    return HTTP.send(r.build(), HttpResponse.BodyHandlers.ofByteArray());
  }

  @Test
  void theNodeAnswersWithNpzOnlyWhenTheOutputsAreLargeAndTheClientAcceptsIt() throws Exception {
    String both = "application/json, application/x-npz";
    HttpResponse<byte[]> large = post(inputs(1), both);
    assertEquals(200, large.statusCode());
    assertEquals("application/x-npz", large.headers().firstValue("Content-Type").orElseThrow());
    assertTrue(large.headers().firstValue("Verity-Receipt").isPresent());
    NamedTensors y = Npy.readNpz(new ByteArrayInputStream(large.body()), TensorLimits.DEFAULT);
    assertArrayEquals(expected(1), y.get("y").toFloats());

    HttpResponse<byte[]> plain = post(inputs(1), null);
    assertTrue(plain.headers().firstValue("Content-Type").orElseThrow().startsWith("application/json"),
        "a client that names no type gets JSON");
    HttpResponse<byte[]> empty = post(inputs(0), both);
    assertTrue(empty.headers().firstValue("Content-Type").orElseThrow().startsWith("application/json"),
        "small outputs stay JSON for a client that accepts both");
    HttpResponse<byte[]> npzOnly = post(inputs(0), "application/x-npz");
    assertEquals("application/x-npz", npzOnly.headers().firstValue("Content-Type").orElseThrow(),
        "a client that accepts only .npz gets it whatever the size");
  }

  @Test
  void theClientVerifiesLargeOutputsThatCameAsNpz() throws Exception {
    try (VerityClient client = VerityClient.builder(node.uri()).build()) {
      for (int batch : new int[] {0, 1, 40}) {
        InferenceResult r = client.infer(ref, inputs(batch));
        assertArrayEquals(expected(batch), r.outputs().get("y").toFloats(), "batch " + batch);
        assertEquals(r.outputs().cid(), r.receipt().outputs());
        assertEquals(inputs(batch).cid(), r.receipt().inputs());
      }
    }
  }

  @Test
  void rejectsNpzOutputsChangedOnTheWay() throws Exception {
    try (Proxy proxy = new Proxy(response -> {
          NamedTensors outputs = readNpz(response.body());
          float[] y = outputs.get("y").toFloats();
          y[7] += 1;
          return new Relayed(response.headers(), Npy.toNpz(NamedTensors.of("y", Tensor.ofFloats(outputs.get("y").shape(), y))));
        });
        VerityClient client = VerityClient.builder(proxy.uri()).trustNodes(java.util.Set.of(node.publicKey())).build()) {
      VerificationException e = assertThrows(VerificationException.class, () -> client.infer(ref, inputs(1)));
      assertTrue(e.getMessage().contains("outputs do not match the receipt"), e.getMessage());
    }
  }

  @Test
  void rejectsAnNpzResponseWithoutItsReceipt() throws Exception {
    try (Proxy proxy = new Proxy(response -> {
          Map<String, List<String>> headers = new java.util.TreeMap<>(String.CASE_INSENSITIVE_ORDER);
          headers.putAll(response.headers());
          headers.remove("Verity-Receipt");
          return new Relayed(headers, response.body());
        });
        VerityClient client = VerityClient.builder(proxy.uri()).trustNodes(java.util.Set.of(node.publicKey())).build()) {
      DecodingException e = assertThrows(DecodingException.class, () -> client.infer(ref, inputs(1)));
      assertTrue(e.getMessage().contains("Verity-Receipt"), e.getMessage());
    }
  }

  static NamedTensors readNpz(byte[] body) {
    try {
      return Npy.readNpz(new ByteArrayInputStream(body), TensorLimits.DEFAULT);
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  record Relayed(Map<String, List<String>> headers, byte[] body) {}

  /** Passes requests to the node and hands each successful inference response to {@code change}. */
  static final class Proxy implements AutoCloseable {
    private final HttpServer server;

    Proxy(UnaryOperator<Relayed> change) throws IOException {
      server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
      server.createContext("/", ex -> {
        try (ex) {
          HttpRequest.Builder r = HttpRequest.newBuilder(node.uri().resolve(ex.getRequestURI().toString()))
              .method(ex.getRequestMethod(), HttpRequest.BodyPublishers.ofByteArray(ex.getRequestBody().readAllBytes()));
          for (String h : List.of("Content-Type", "Accept", "X-Request-Id")) {
            String v = ex.getRequestHeaders().getFirst(h);
            if (v != null) {
              r.header(h, v);
            }
          }
          HttpResponse<byte[]> resp = HTTP.send(r.build(), HttpResponse.BodyHandlers.ofByteArray());
          Relayed out = new Relayed(resp.headers().map(), resp.body());
          if (resp.statusCode() == 200 && ex.getRequestURI().getPath().endsWith("/infer")) {
            out = change.apply(out);
          }
          for (String h : List.of("Content-Type", "Verity-Receipt")) {
            out.headers().entrySet().stream().filter(e -> e.getKey().equalsIgnoreCase(h))
                .forEach(e -> ex.getResponseHeaders().put(h, e.getValue()));
          }
          ex.sendResponseHeaders(resp.statusCode(), out.body().length == 0 ? -1 : out.body().length);
          try (OutputStream o = ex.getResponseBody()) {
            o.write(out.body());
          }
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
      });
      server.start();
    }

    URI uri() {
      return URI.create("http://127.0.0.1:" + server.getAddress().getPort());
    }

    @Override
    public void close() {
      server.stop(0);
    }
  }
}
