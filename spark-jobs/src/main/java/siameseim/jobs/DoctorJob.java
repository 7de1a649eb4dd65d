package siameseim.jobs;

import java.util.List;
import siameseim.config.PretrainConfig;
import siameseim.doctor.Doctor;

/** bin/siameseim doctor: what each replica's executor has and can do, before the first training run. */
public final class DoctorJob implements Job {

    @Override
    public String name() {
        return "doctor";
    }

    @Override
    public String summary() {
        return "check a cluster as training would use it: natives, devices, a timed step per replica, the collective";
    }

    @Override
    public String usage() {
        return "[--replicas N] [--conf FILE] [--master URL]";
    }

    @Override
    public int run(JobArgs a) throws Exception {
        a.allowOnly("replicas", "master");
        PretrainConfig cfg = TrainingJobs.config(a);
        try (JobArgs.JobSession session = a.session("siameseim doctor")) {
            List<String> problems = Doctor.run(session.spark(), cfg, System.out::println);
            return problems.isEmpty() ? 0 : 1;
        }
    }
}
