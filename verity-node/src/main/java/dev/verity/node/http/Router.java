package dev.verity.node.http;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Maps a method and a path to a handler. Patterns are literal segments and {@code {name}} captures
 * of one whole segment, e.g. {@code /v1/models/{owner}/{repo}}. Built once, then read-only.
 */
public final class Router {
  /** Serves one matched request. */
  @FunctionalInterface
  public interface Handler {
    void handle(Exchange ex) throws Exception;
  }

  record Route(String method, String pattern, String[] segments, Handler handler) {}

  record Match(Route route, Map<String, String> params) {}

  private final List<Route> routes = new ArrayList<>();

  public Router add(String method, String pattern, Handler handler) {
    routes.add(new Route(method, pattern, split(pattern), handler));
    return this;
  }

  private static String[] split(String path) {
    String p = path.startsWith("/") ? path.substring(1) : path;
    return p.isEmpty() ? new String[0] : p.split("/", -1);
  }

  /**
   * Finds the route for a request.
   *
   * @throws ApiException 404 when no pattern matches the path, 405 when one does for another method
   */
  Match match(String method, String path) {
    String[] parts = split(path);
    Set<String> allowed = new LinkedHashSet<>();
    for (Route r : routes) {
      Optional<Map<String, String>> params = bind(r.segments(), parts);
      if (params.isEmpty()) {
        continue;
      }
      if (r.method().equals(method)) {
        return new Match(r, params.get());
      }
      allowed.add(r.method());
    }
    if (!allowed.isEmpty()) {
      throw ApiException.methodNotAllowed(allowed,
          "method " + method + " is not allowed here; use " + String.join(" or ", allowed));
    }
    throw ApiException.notFound("no endpoint at " + path + "; see the OpenAPI description (docs/openapi.yaml)");
  }

  private static Optional<Map<String, String>> bind(String[] pattern, String[] parts) {
    if (pattern.length != parts.length) {
      return Optional.empty();
    }
    Map<String, String> params = new HashMap<>();
    for (int i = 0; i < pattern.length; i++) {
      String p = pattern[i];
      if (p.startsWith("{") && p.endsWith("}")) {
        if (parts[i].isEmpty()) {
          return Optional.empty();
        }
        params.put(p.substring(1, p.length() - 1),
            java.net.URLDecoder.decode(parts[i], java.nio.charset.StandardCharsets.UTF_8));
      } else if (!p.equals(parts[i])) {
        return Optional.empty();
      }
    }
    return Optional.of(params);
  }
}
