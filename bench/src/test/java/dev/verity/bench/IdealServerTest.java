package dev.verity.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** The benchmark's baseline server: answers keep-alive requests, refuses bad heads, survives junk. */
class IdealServerTest {
  static long head(String text) throws IOException {
    return IdealServer.readHead(new ByteArrayInputStream(text.getBytes(StandardCharsets.ISO_8859_1)), new byte[64]);
  }

  @Test
  void readsTheBodyLengthAndRefusesBadHeads() throws IOException {
    assertEquals(5, head("POST / HTTP/1.1\r\nContent-Length: 5\r\n\r\n"));
    assertEquals(0, head("GET / HTTP/1.1\r\nHost: x\r\n\r\n"));
    assertEquals(-1, head(""), "end of stream between requests");
    assertEquals(-2, head("POST / HTTP/1.1\r\nContent"), "cut off");
    assertEquals(-2, head("POST / HTTP/1.1\r\nContent-Length: many\r\n\r\n"));
    assertEquals(-2, head("POST / HTTP/1.1\r\nContent-Length: -3\r\n\r\n"));
    assertEquals(-2, head("POST / HTTP/1.1\r\nContent-Length: 99999999999\r\n\r\n"));
    assertEquals(-2, head("POST / HTTP/1.1\r\nX: " + "y".repeat(100) + "\r\n\r\n"), "longer than the buffer");
  }

  @Test
  void servesManyRequestsOnOneConnectionAndOutlivesJunk() throws Exception {
    try (IdealServer server = IdealServer.start(10_000);
        HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build()) {
      Random random = new Random(3);
      for (int i = 0; i < 5; i++) {
        try (Socket junk = new Socket("127.0.0.1", server.uri().getPort())) {
          byte[] bytes = new byte[random.nextInt(20_000)];
          random.nextBytes(bytes);
          OutputStream out = junk.getOutputStream();
          try {
            out.write(bytes);
            out.flush();
            junk.shutdownOutput();
            InputStream in = junk.getInputStream();
            in.readAllBytes();
          } catch (IOException e) {
            // the server may drop the connection first: that is its answer to junk
          }
        }
      }
      for (int i = 0; i < 20; i++) {
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(server.uri())
            .POST(HttpRequest.BodyPublishers.ofString("{\"inputs\": " + i + "}")).build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(200, r.statusCode());
        assertEquals("{}", r.body());
      }
      assertTrue(server.uri().toString().startsWith("http://127.0.0.1:"));
    }
  }
}
