package siameseim.jobs;

/** One entry point of {@code bin/siameseim}. */
public interface Job {
    String name();

    /** One line for {@code --help}. */
    String summary();

    /** Options for {@code bin/siameseim <job> --help}. */
    String usage();

    /** @return the process exit status */
    int run(JobArgs args) throws Exception;
}
