package dev.verity.bench;

import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.Locale;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * The baseline of the network benchmark: the least a server can do for a request on this machine. It
 * speaks just enough HTTP/1.1 for the load generator (keep-alive, {@code Content-Length} bodies),
 * serves each connection on its own platform thread with blocking sockets (no dispatcher, no hand-off
 * between threads), spends a fixed CPU time per request by spinning, and answers {@code 200} with a
 * small fixed body.
 *
 * <p>Offered the same load shape as a Verity set-up, with its work set to that set-up's CPU time per
 * request, it shows the latency tail that the machine and the load generator alone give: what no
 * server design could go below here.
 */
final class IdealServer implements AutoCloseable {
  private static final int MAX_HEADER_BYTES = 16 * 1024;
  private static final int MAX_BODY_BYTES = 16 * 1024 * 1024;
  private static final byte[] ANSWER = ("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}")
      .getBytes(StandardCharsets.US_ASCII);
  private static final byte[] BAD = ("HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
      .getBytes(StandardCharsets.US_ASCII);

  private final ServerSocket socket;
  private final long workNanos;
  private final AtomicBoolean closed = new AtomicBoolean();

  private IdealServer(ServerSocket socket, long workNanos) {
    this.socket = socket;
    this.workNanos = workNanos;
  }

  /** Starts on an ephemeral port of 127.0.0.1, spending {@code workNanos} (≥ 0) of CPU per request. */
  static IdealServer start(long workNanos) throws IOException {
    if (workNanos < 0) {
      throw new IllegalArgumentException("work must not be negative, got " + workNanos);
    }
    ServerSocket s = new ServerSocket();
    s.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 1024);
    IdealServer server = new IdealServer(s, workNanos);
    Thread.ofPlatform().daemon().name("ideal-server-accept").start(server::accept);
    return server;
  }

  URI uri() {
    return URI.create("http://127.0.0.1:" + socket.getLocalPort() + "/");
  }

  private void accept() {
    while (!closed.get()) {
      Socket c;
      try {
        c = socket.accept();
      } catch (IOException e) {
        return; // closed
      }
      Thread.ofPlatform().daemon().name("ideal-server-conn").start(() -> serve(c));
    }
  }

  private void serve(Socket c) {
    try (c) {
      c.setTcpNoDelay(true);
      InputStream in = new BufferedInputStream(c.getInputStream(), 64 * 1024);
      OutputStream out = c.getOutputStream();
      byte[] head = new byte[MAX_HEADER_BYTES];
      while (!closed.get()) {
        long length = readHead(in, head);
        if (length == -1) {
          return; // the client closed the connection between requests
        }
        if (length < 0) {
          out.write(BAD);
          out.flush();
          return;
        }
        in.skipNBytes(length); // an early end of stream throws, and the connection is dropped
        spin(workNanos);
        out.write(ANSWER);
        out.flush();
      }
    } catch (IOException e) {
      // the connection went away; nothing to clean up beyond the socket
    }
  }

  /** Busy CPU time, as a request's computation would be. */
  static void spin(long nanos) {
    long until = System.nanoTime() + nanos;
    while (System.nanoTime() - until < 0) {
      Thread.onSpinWait();
    }
  }

  /**
   * Reads a request head into {@code head} (its length is the limit); returns its {@code Content-Length} (0 when absent), -1 at end of stream
   * before any byte, -2 for a head that is too long or malformed.
   */
  static long readHead(InputStream in, byte[] head) throws IOException {
    int n = 0;
    while (true) {
      int b = in.read();
      if (b < 0) {
        return n == 0 ? -1 : -2;
      }
      if (n == head.length) {
        return -2;
      }
      head[n++] = (byte) b;
      if (n >= 4 && head[n - 4] == '\r' && head[n - 3] == '\n' && head[n - 2] == '\r' && head[n - 1] == '\n') {
        break;
      }
    }
    long length = 0;
    for (String line : new String(head, 0, n, StandardCharsets.ISO_8859_1).split("\r\n")) {
      int colon = line.indexOf(':');
      if (colon > 0 && line.substring(0, colon).trim().toLowerCase(Locale.ROOT).equals("content-length")) {
        try {
          length = Long.parseLong(line.substring(colon + 1).trim());
        } catch (NumberFormatException e) {
          return -2;
        }
        if (length < 0 || length > MAX_BODY_BYTES) {
          return -2;
        }
      }
    }
    return length;
  }

  @Override
  public void close() throws IOException {
    closed.set(true);
    socket.close();
  }
}
