package dev.verity.node.http;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import dev.verity.core.Hash;
import java.io.ByteArrayOutputStream;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.Map;
import java.util.Optional;

/**
 * One HTTP request and its response, with the limits and conventions of the Verity API: bodies are
 * read up to a limit (413 past it), every response carries the request id, errors are problem
 * documents. Not thread-safe; used by the one thread that serves the request.
 */
public final class Exchange {
  static final ObjectMapper JSON = dev.verity.protocol.JsonFactories.mapper();

  private final HttpExchange http;
  private final String requestId;
  private final Map<String, String> params;
  private final java.util.function.IntConsumer onResponse;
  private boolean responded;

  /** @param onResponse told the status of the response just before its headers are sent */
  Exchange(HttpExchange http, String requestId, Map<String, String> params, java.util.function.IntConsumer onResponse) {
    this.http = http;
    this.requestId = requestId;
    this.params = params;
    this.onResponse = onResponse;
  }

  public String requestId() {
    return requestId;
  }

  public String method() {
    return http.getRequestMethod();
  }

  /** The raw path and query as the client sent them (what request signatures cover). */
  public String pathAndQuery() {
    String q = http.getRequestURI().getRawQuery();
    return http.getRequestURI().getRawPath() + (q == null ? "" : "?" + q);
  }

  public String param(String name) {
    return params.get(name);
  }

  public Optional<String> query(String name) {
    String q = http.getRequestURI().getRawQuery();
    if (q == null) {
      return Optional.empty();
    }
    for (String part : q.split("&")) {
      int eq = part.indexOf('=');
      String k = java.net.URLDecoder.decode(eq < 0 ? part : part.substring(0, eq), StandardCharsets.UTF_8);
      if (k.equals(name)) {
        return Optional.of(eq < 0 ? "" : java.net.URLDecoder.decode(part.substring(eq + 1), StandardCharsets.UTF_8));
      }
    }
    return Optional.empty();
  }

  public Optional<String> header(String name) {
    return Optional.ofNullable(http.getRequestHeaders().getFirst(name));
  }

  public String contentType() {
    String ct = header("Content-Type").orElse("application/json");
    int semi = ct.indexOf(';');
    return (semi < 0 ? ct : ct.substring(0, semi)).trim().toLowerCase(java.util.Locale.ROOT);
  }

  /** Whether the client accepts a binary (.npz) response. */
  public boolean acceptsNpz() {
    return header("Accept").map(a -> a.contains("application/x-npz")).orElse(false);
  }

  /** Whether the client accepts JSON: it sent no Accept header, or one naming JSON or any type. */
  public boolean acceptsJson() {
    return header("Accept").map(a -> a.contains("application/json") || a.contains("*/*")).orElse(true);
  }

  /** Reads the whole body, refusing more than {@code maxBytes} with 413. */
  public byte[] body(long maxBytes) throws IOException {
    long declared = declaredLength();
    if (declared > maxBytes) {
      throw tooLarge(maxBytes);
    }
    try (InputStream in = bodyStream(maxBytes)) {
      if (declared > 0 && declared <= Integer.MAX_VALUE - 8) {
        // a body of declared length is read straight into its array (the server ends the stream there)
        byte[] body = new byte[(int) declared];
        int n = in.readNBytes(body, 0, body.length);
        return n == body.length ? body : java.util.Arrays.copyOf(body, n);
      }
      ByteArrayOutputStream out = new ByteArrayOutputStream(1024);
      in.transferTo(out);
      return out.toByteArray();
    }
  }

  /** The body as a stream that fails with 413 once more than {@code maxBytes} are read. */
  public InputStream bodyStream(long maxBytes) {
    if (declaredLength() > maxBytes) {
      throw tooLarge(maxBytes);
    }
    return new LimitedStream(http.getRequestBody(), maxBytes);
  }

  private long declaredLength() {
    String cl = http.getRequestHeaders().getFirst("Content-Length");
    if (cl == null) {
      return -1;
    }
    try {
      return Long.parseLong(cl.trim());
    } catch (NumberFormatException e) {
      throw ApiException.badRequest("Content-Length is not a number");
    }
  }

  private static ApiException tooLarge(long max) {
    return ApiException.tooLarge("the body exceeds this endpoint's limit of " + max + " bytes");
  }

  public void sendJson(int status, Object value) throws IOException {
    byte[] body = JSON.writeValueAsBytes(value);
    send(status, "application/json", body);
  }

  /** Streams a JSON document written by {@code writer}. */
  public void sendJson(int status, JsonWriter writer) throws IOException {
    ByteArrayOutputStream buf = new ByteArrayOutputStream(4096);
    try (JsonGenerator g = JSON.getFactory().createGenerator(buf)) {
      writer.write(g);
    }
    send(status, "application/json", buf.toByteArray());
  }

  public void send(int status, String contentType, byte[] body) throws IOException {
    begin(status, contentType, body.length);
    try (OutputStream out = http.getResponseBody()) {
      out.write(body);
    }
  }

  /** Starts a streamed response of known length (or -1 for chunked) and returns its body stream. */
  public OutputStream sendStream(int status, String contentType, long length) throws IOException {
    begin(status, contentType, length <= 0 ? 0 : length);
    return http.getResponseBody();
  }

  public void setHeader(String name, String value) {
    http.getResponseHeaders().set(name, value);
  }

  public void sendEmpty(int status) throws IOException {
    begin(status, null, -1);
    http.close();
  }

  private void begin(int status, String contentType, long length) throws IOException {
    if (responded) {
      throw new IllegalStateException("response already started");
    }
    responded = true;
    if (contentType != null) {
      http.getResponseHeaders().set("Content-Type", contentType);
    }
    http.getResponseHeaders().set("X-Request-Id", requestId);
    onResponse.accept(status);
    http.sendResponseHeaders(status, length == 0 ? -1 : length);
  }

  void sendProblem(ApiException e) throws IOException {
    ObjectNode p = JSON.createObjectNode();
    p.put("type", "/problems/" + e.type());
    p.put("title", e.title());
    p.put("status", e.status());
    p.put("detail", e.getMessage());
    p.put("request_id", requestId);
    byte[] body = JSON.writeValueAsBytes(p);
    if (e.allow() != null) {
      http.getResponseHeaders().set("Allow", e.allow());
    }
    if (e.retryAfterSeconds() >= 0) {
      http.getResponseHeaders().set("Retry-After", Integer.toString(e.retryAfterSeconds()));
    }
    begin(e.status(), "application/problem+json", body.length);
    try (OutputStream out = http.getResponseBody()) {
      out.write(body);
    }
  }

  /**
   * Reads and drops up to {@code max} bytes of the request body that the handler left unread, and
   * tells whether the body is now consumed. A client still sending a refused body reads the answer
   * only if the server takes the rest first: closing a connection with unread bytes resets it, and
   * the client sees the reset instead of the problem document.
   */
  boolean discardUnreadBody(long max) {
    byte[] buf = new byte[64 * 1024];
    long left = max;
    try {
      InputStream in = http.getRequestBody();
      while (left > 0) {
        int n = in.read(buf, 0, (int) Math.min(buf.length, left));
        if (n < 0) {
          return true;
        }
        left -= n;
      }
      return in.read() < 0;
    } catch (IOException e) {
      return false;
    }
  }

  boolean responded() {
    return responded;
  }

  /** Writes a JSON document with a generator. */
  @FunctionalInterface
  public interface JsonWriter {
    void write(JsonGenerator g) throws IOException;
  }

  /** Counts bytes and fails with 413 past the limit. */
  static final class LimitedStream extends FilterInputStream {
    private final long max;
    private long read;

    LimitedStream(InputStream in, long max) {
      super(in);
      this.max = max;
    }

    @Override
    public int read() throws IOException {
      int b = super.read();
      if (b >= 0 && ++read > max) {
        throw tooLarge(max);
      }
      return b;
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
      int n = super.read(b, off, len);
      if (n > 0 && (read += n) > max) {
        throw tooLarge(max);
      }
      return n;
    }

    /**
     * Leaves the request body open: closing it would make the server drop what is still unread
     * and reset the connection, where the refused client should read a 413 (see
     * {@link Exchange#discardUnreadBody}). The server closes it when the exchange ends.
     */
    @Override
    public void close() {}
  }

  /** A stream that hashes everything read through it, for checking request signatures over bodies. */
  public static final class HashingStream extends FilterInputStream {
    private final MessageDigest digest = Hash.newDigest();

    public HashingStream(InputStream in) {
      super(in);
    }

    @Override
    public int read() throws IOException {
      int b = super.read();
      if (b >= 0) {
        digest.update((byte) b);
      }
      return b;
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
      int n = super.read(b, off, len);
      if (n > 0) {
        digest.update(b, off, n);
      }
      return n;
    }

    public Hash hash() {
      return Hash.fromDigest(digest);
    }
  }
}
