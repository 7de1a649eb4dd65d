package siameseim.datasets.prepare.tar;

import java.util.function.Function;
import siameseim.datasets.decode.BadImageException;
import siameseim.datasets.prepare.InputImage;

/**
 * Every regular file of a tar as an input image (ImageNet's per-class tars, its flat validation
 * tar): the key and class of each come from its name, a member too large to hold is reported
 * ({@code TOO_LARGE}), and a tar cut short is reported once after the members before the cut.
 */
public final class TarImages extends Lookahead {
    private final TarMembers members;
    private final String tarName;
    private final String split;
    private final Function<String, String> key;
    private final Function<String, String> wnid;
    private boolean ended;

    /**
     * @param tarName the tar's name in reports
     * @param key a member's key (path below the split) from its name in the tar
     * @param wnid a member's class from its name (null: none)
     */
    public TarImages(TarMembers members, String tarName, String split, Function<String, String> key,
            Function<String, String> wnid) {
        this.members = members;
        this.tarName = tarName;
        this.split = split;
        this.key = key;
        this.wnid = wnid;
    }

    /** A member's file name: its path in the tar without folders (ImageNet's tars are flat). */
    public static String fileName(String member) {
        return member.substring(member.lastIndexOf('/') + 1);
    }

    @Override
    protected InputImage advance() {
        if (ended) {
            return null;
        }
        TarMembers.Member m = members.next();
        if (m == null) {
            ended = true;
            return members.cutShort() == null ? null
                    : InputImage.bad(split, tarName, InputImage.TAR_CUT_SHORT, members.cutShort());
        }
        if (m.bytes() == null) {
            return InputImage.bad(split, key.apply(m.name()), BadImageException.Reason.TOO_LARGE.name(),
                    m.size() + " bytes: larger than a member this reader holds");
        }
        return InputImage.of(split, wnid.apply(m.name()), key.apply(m.name()), m.bytes());
    }
}
