package dev.verity.node;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.function.UnaryOperator;

/**
 * A node that lies: an HTTP server that forwards every request to a real node and then rewrites
 * what it says (or, left alone, an honest relay that records what clients send). Tests set {@link #requestPath} (to run another version than asked) and {@link
 * #response} (to change outputs, receipts, manifests or downloaded bytes) and check that the SDK
 * refuses what comes back.
 */
final class MaliciousProxy implements AutoCloseable {
  private static final List<String> FORWARDED = List.of("Content-Type", "Authorization", "X-Request-Id", "Accept");
  private static final List<String> RETURNED = List.of("Content-Type", "X-Request-Id", "Verity-Receipt", "Allow");

  /** Rewrites a response body; given the method and path the client asked for. */
  @FunctionalInterface
  interface Rewrite {
    byte[] apply(String method, String path, byte[] body) throws Exception;
  }

  private final URI target;
  private final HttpServer server;
  private final ExecutorService executor = Executors.newVirtualThreadPerTaskExecutor();
  /** "METHOD path content-type" of every request forwarded, in order. */
  final List<String> seen = new java.util.concurrent.CopyOnWriteArrayList<>();
  volatile UnaryOperator<String> requestPath = UnaryOperator.identity();
  volatile Rewrite response = (method, path, body) -> body;

  MaliciousProxy(URI target) throws IOException {
    this.target = target;
    this.server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    server.setExecutor(executor);
    server.createContext("/", this::forward);
    server.start();
  }

  URI uri() {
    return URI.create("http://127.0.0.1:" + server.getAddress().getPort());
  }

  private void forward(HttpExchange ex) throws IOException {
    try (ex) {
      String asked = ex.getRequestURI().getRawPath()
          + (ex.getRequestURI().getRawQuery() == null ? "" : "?" + ex.getRequestURI().getRawQuery());
      seen.add(ex.getRequestMethod() + " " + asked + " " + ex.getRequestHeaders().getFirst("Content-Type"));
      byte[] requestBody;
      try (InputStream in = ex.getRequestBody()) {
        requestBody = in.readAllBytes();
      }
      HttpRequest.Builder b = NodeHarness.request(target, requestPath.apply(asked))
          .method(ex.getRequestMethod(), requestBody.length == 0 && ex.getRequestMethod().equals("GET")
              ? HttpRequest.BodyPublishers.noBody()
              : HttpRequest.BodyPublishers.ofByteArray(requestBody));
      for (String h : FORWARDED) {
        String v = ex.getRequestHeaders().getFirst(h);
        if (v != null) {
          b.header(h, v);
        }
      }
      HttpResponse<byte[]> r;
      try {
        r = NodeHarness.HTTP.send(b.build(), HttpResponse.BodyHandlers.ofByteArray());
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IOException(e);
      }
      byte[] body;
      try {
        body = r.statusCode() < 300 ? response.apply(ex.getRequestMethod(), asked, r.body()) : r.body();
      } catch (Exception e) {
        throw new IOException("the rewrite failed", e);
      }
      for (String h : RETURNED) {
        r.headers().firstValue(h).ifPresent(v -> ex.getResponseHeaders().set(h, v));
      }
      ex.sendResponseHeaders(r.statusCode(), body.length == 0 ? -1 : body.length);
      try (OutputStream out = ex.getResponseBody()) {
        out.write(body);
      }
    }
  }

  @Override
  public void close() {
    server.stop(0);
    executor.shutdownNow();
  }
}
