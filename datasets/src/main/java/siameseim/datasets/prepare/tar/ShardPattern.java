package siameseim.datasets.prepare.tar;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * WebDataset's brace notation for shard lists ({@code braceexpand}): {@code {000000..000999}} is
 * a numeric range, zero-padded to the width of its first bound, and {@code {a,b}} a list; a name
 * may hold several of them ({@code s3a://b/{train,val}/shard-{0000..0099}.tar}).
 */
public final class ShardPattern {
    private ShardPattern() {}

    private static final Pattern BRACE = Pattern.compile("\\{([^{}]*)}");
    private static final Pattern RANGE = Pattern.compile("(\\d+)\\.\\.(\\d+)");

    public static boolean isPattern(String s) {
        return BRACE.matcher(s).find();
    }

    /** Every name of the pattern, in order (the first brace varies slowest). */
    public static List<String> expand(String pattern) {
        Matcher m = BRACE.matcher(pattern);
        if (!m.find()) {
            return List.of(pattern);
        }
        String head = pattern.substring(0, m.start());
        List<String> tails = expand(pattern.substring(m.end()));
        List<String> out = new ArrayList<>();
        for (String choice : choices(m.group(1), pattern)) {
            for (String t : tails) {
                out.add(head + choice + t);
            }
        }
        return out;
    }

    private static List<String> choices(String body, String pattern) {
        Matcher r = RANGE.matcher(body);
        List<String> out = new ArrayList<>();
        if (r.matches()) {
            long from = Long.parseLong(r.group(1));
            long to = Long.parseLong(r.group(2));
            if (to < from || to - from > 10_000_000) {
                throw new IllegalArgumentException("shard pattern " + pattern + ": range {" + body + "} is empty or"
                        + " too large");
            }
            int width = r.group(1).length();
            for (long i = from; i <= to; i++) {
                String s = Long.toString(i);
                out.add("0".repeat(Math.max(0, width - s.length())) + s);
            }
            return out;
        }
        for (String s : body.split(",", -1)) {
            out.add(s);
        }
        return out;
    }
}
