// concert::any_sender: one handler for a message whoever sends it. A frame counter listens to the
// "frame" message of every camera, including cameras created after it subscribed.
#include <cstdio>
#include <string>
#include <vector>

#include <concert/concert.hpp>

struct camera {
    std::string name;

    void grab() { concert::dispatcher.send(this, "frame"); }
};

int main() {
    // [any-sender]
    int frames = 0;
    concert::scoped_subscription counting{
        concert::dispatcher.subscribe(concert::any_sender, "frame", [&frames](const void* sender) {
            ++frames;
            std::printf("frame %d from %s\n", frames,
                        static_cast<const camera*>(sender)->name.c_str());
        })};
    // [any-sender]

    std::vector<camera> cameras{{"ccd"}, {"cmos"}};
    for (int round = 0; round < 2; ++round) {
        for (auto& c : cameras) {
            c.grab();
        }
    }
    concert::dispatcher.flush();  // every handler call above has finished
    std::printf("%d frames from %zu cameras\n", frames, cameras.size());
}
