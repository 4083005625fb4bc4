package dev.verity.node;

import static dev.verity.node.NodeHarness.assertProblem;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.verity.core.crypto.Signer;
import java.net.http.HttpRequest;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A signed state-changing request captured and sent again is refused; reads may be repeated. */
class ReplayedRequestTest {

  static NodeHarness.Response send(VerityNode node, String method, String path, String authorization, byte[] body) {
    HttpRequest.Builder b = NodeHarness.request(node.uri(), path).header("Authorization", authorization)
        .header("Content-Type", "application/octet-stream");
    return NodeHarness.send(method.equals("POST") ? b.POST(HttpRequest.BodyPublishers.ofByteArray(body)).build()
        : b.GET().build());
  }

  @Test
  void aReplayedSignedUploadIsRefusedAndASignedReadMayBeRepeated(@TempDir Path dir) throws Exception {
    Signer key = Signer.generate();
    byte[] blob = "some bytes to keep".getBytes(StandardCharsets.UTF_8);
    try (VerityNode node = NodeHarness.start(dir.resolve("node"))) {
      long now = System.currentTimeMillis();
      String signed = NodeHarness.authorization(key, "POST", "/v1/blobs", blob, now);
      NodeHarness.Response first = send(node, "POST", "/v1/blobs", signed, blob);
      assertEquals(201, first.status(), first.text());
      NodeHarness.Response again = send(node, "POST", "/v1/blobs", signed, blob);
      assertTrue(assertProblem(again, 401).path("detail").asText().contains("already used"), again.text());
      // the same request signed afresh is a new request
      NodeHarness.Response fresh = send(node, "POST", "/v1/blobs",
          NodeHarness.authorization(key, "POST", "/v1/blobs", blob, now + 1), blob);
      assertEquals(201, fresh.status(), fresh.text());

      String read = NodeHarness.authorization(key, "GET", "/v1/models", new byte[0], now);
      assertEquals(200, send(node, "GET", "/v1/models", read, new byte[0]).status());
      assertEquals(200, send(node, "GET", "/v1/models", read, new byte[0]).status(), "a read may be repeated");
    }
  }
}
