// A small Motor device server for the Tango bridge's tests, example and benchmark, written by hand
// (no Pogo). Each device has
//   - `position` (DevDouble, read/write): the current position; writing it moves there like Move.
//     The code pushes its change events (one per step of a motion); subscribers need no polling.
//   - `step_time` (DevDouble, read/write, seconds, default 0.001): how long each of a motion's
//     5 steps takes, so that a test can make a command last as long as it needs.
//   - `Move(DevDouble) -> DevDouble`: moves to the target in 5 steps of `step_time`, pushing a
//     change event of `position` after each, and returns the final position (the target).
//   - `Fail()`: always fails with the reason "Motor_Fault".
//   - `Fault()`: puts the motor in FAULT: pushes an error change event on `position` (reason
//     "Motor_Fault"), and reading, writing or moving fails with "Motor_Fault" until `Reset()`.
//   - `Reset()`: leaves FAULT and pushes a change event with the current position.
// Started like TangoTest, without a database, on loopback:
//   motor_server <instance> -nodb -dlist test/motor/1[,test/motor/2...]
//                -ORBendPoint giop:tcp:127.0.0.1:PORT
// and reached as tango://127.0.0.1:PORT/test/motor/1#dbase=no. SIGTERM (or SIGINT) stops it:
// Tango's signal thread shuts the server down and main returns.
//
// For clients (checked with Tango 9.3.4 in no-database mode): change events go over ZMQ without
// anything special; subscribe_event(CHANGE_EVENT) delivers the current value at once (twice, a
// known 9.3.4 duplicate), then one event per step of each motion. A client must unsubscribe
// before the server is stopped (9.3.4's event reconnect thread crashes a client whose server
// vanished under a live subscription).
#include <tango.h>

#include <chrono>
#include <cmath>
#include <iostream>
#include <string>
#include <thread>
#include <vector>

namespace {

constexpr int steps_per_motion = 5;
constexpr double default_step_time = 0.001;
constexpr double max_step_time = 10.0;
constexpr const char* fault_reason = "Motor_Fault";

[[noreturn]] void fail(const char* reason, const std::string& description, const char* origin) {
    Tango::Except::throw_exception(reason, description, origin);
}

class Motor : public Tango::Device_5Impl {
  public:
    Motor(Tango::DeviceClass* device_class, const char* name) : Device_5Impl(device_class, name) {
        init_device();
    }

    void init_device() override {
        position_ = 0.0;
        step_time_ = default_step_time;
        faulted_ = false;
        set_change_event("position", true, false);
        set_state(Tango::ON);
        set_status("The motor is idle");
    }

    void read_position(Tango::Attribute& attribute) {
        require_no_fault("Motor::read_position");
        attribute.set_value(&position_);
    }

    void write_position(Tango::WAttribute& attribute) {
        Tango::DevDouble target = 0.0;
        attribute.get_write_value(target);
        move(target);
    }

    void read_step_time(Tango::Attribute& attribute) { attribute.set_value(&step_time_); }

    void write_step_time(Tango::WAttribute& attribute) {
        Tango::DevDouble seconds = 0.0;
        attribute.get_write_value(seconds);
        if (!(seconds >= 0.0 && seconds <= max_step_time)) {
            fail("Motor_InvalidStepTime",
                 "step_time must be between 0 and " + std::to_string(max_step_time) +
                     " seconds, got " + std::to_string(seconds),
                 "Motor::write_step_time");
        }
        step_time_ = seconds;
    }

    // The motion: the device's lock (Tango's default serialisation by device) is held
    // throughout, so a read during a motion returns once it has ended.
    Tango::DevDouble move(Tango::DevDouble target) {
        require_no_fault("Motor::move");
        if (!std::isfinite(target)) {
            fail("Motor_InvalidTarget", "the target position must be finite", "Motor::move");
        }
        set_state(Tango::MOVING);
        set_status("The motor is moving");
        const double start = position_;
        const auto step_time = std::chrono::duration<double>(step_time_);
        for (int step = 1; step <= steps_per_motion; ++step) {
            std::this_thread::sleep_for(step_time);
            position_ = step == steps_per_motion
                            ? target
                            : start + (target - start) * step / steps_per_motion;
            push_position();
        }
        set_state(Tango::ON);
        set_status("The motor is idle");
        return position_;
    }

    void fail_command() {
        fail(fault_reason, "the Fail command always fails", "Motor::fail_command");
    }

    void fault() {
        faulted_ = true;
        set_state(Tango::FAULT);
        set_status("The motor is in fault");
        Tango::DevErrorList errors;
        errors.length(1);
        errors[0].reason = fault_reason;
        errors[0].desc = "the motor was put in fault by the Fault command";
        errors[0].origin = "Motor::fault";
        errors[0].severity = Tango::ERR;
        Tango::DevFailed failure(errors);
        push_change_event("position", &failure);
    }

    void reset() {
        faulted_ = false;
        set_state(Tango::ON);
        set_status("The motor is idle");
        push_position();
    }

  private:
    void require_no_fault(const char* origin) const {
        if (faulted_) {
            fail(fault_reason, "the motor is in fault (Reset clears it)", origin);
        }
    }

    void push_position() {
        Tango::DevDouble value = position_;
        push_change_event("position", &value);
    }

    Tango::DevDouble position_ = 0.0;
    Tango::DevDouble step_time_ = default_step_time;
    bool faulted_ = false;
};

// A read/write DevDouble attribute whose reads and writes are the Motor's members.
class double_attribute : public Tango::Attr {
  public:
    using reader = void (Motor::*)(Tango::Attribute&);
    using writer = void (Motor::*)(Tango::WAttribute&);

    double_attribute(const char* name, reader read, writer write)
        : Attr(name, Tango::DEV_DOUBLE, Tango::READ_WRITE), read_(read), write_(write) {}
    void read(Tango::DeviceImpl* device, Tango::Attribute& attribute) override {
        (static_cast<Motor*>(device)->*read_)(attribute);
    }
    void write(Tango::DeviceImpl* device, Tango::WAttribute& attribute) override {
        (static_cast<Motor*>(device)->*write_)(attribute);
    }

  private:
    reader read_;
    writer write_;
};

class move_command : public Tango::Command {
  public:
    move_command()
        : Command("Move", Tango::DEV_DOUBLE, Tango::DEV_DOUBLE, "target position",
                  "final position") {}
    CORBA::Any* execute(Tango::DeviceImpl* device, const CORBA::Any& input) override {
        Tango::DevDouble target = 0.0;
        extract(input, target);
        return insert(static_cast<Motor*>(device)->move(target));
    }
};

class void_command : public Tango::Command {
  public:
    void_command(const char* name, void (Motor::*method)())
        : Command(name, Tango::DEV_VOID, Tango::DEV_VOID), method_(method) {}
    CORBA::Any* execute(Tango::DeviceImpl* device, const CORBA::Any&) override {
        (static_cast<Motor*>(device)->*method_)();
        return insert();
    }

  private:
    void (Motor::*method_)();
};

class MotorClass : public Tango::DeviceClass {
  public:
    // Tango owns the class object (it deletes it at server shutdown).
    static MotorClass* create() {
        std::string name = "Motor";
        return new MotorClass(name);
    }

    void command_factory() override {
        command_list.push_back(new move_command);
        command_list.push_back(new void_command("Fail", &Motor::fail_command));
        command_list.push_back(new void_command("Fault", &Motor::fault));
        command_list.push_back(new void_command("Reset", &Motor::reset));
    }

    void attribute_factory(std::vector<Tango::Attr*>& attributes) override {
        attributes.push_back(
            new double_attribute("position", &Motor::read_position, &Motor::write_position));
        auto* step_time =
            new double_attribute("step_time", &Motor::read_step_time, &Motor::write_step_time);
        Tango::UserDefaultAttrProp properties;
        properties.set_unit("s");
        properties.set_description("duration of each of a motion's 5 steps");
        step_time->set_default_properties(properties);
        attributes.push_back(step_time);
    }

    void device_factory(const Tango::DevVarStringArray* names) override {
        for (CORBA::ULong i = 0; i < names->length(); ++i) {
            auto* device = new Motor(this, (*names)[i]);
            device_list.push_back(device);
            // Without a database, the device's CORBA object is named after the device, which is
            // what a "#dbase=no" address looks up.
            if (Tango::Util::_UseDb && !Tango::Util::_FileDb) {
                export_device(device);
            } else {
                export_device(device, device->get_name().c_str());
            }
        }
    }

  private:
    explicit MotorClass(std::string& name) : DeviceClass(name) {}
};

}  // namespace

// Tango's hook: the device classes of this server.
void Tango::DServer::class_factory() {
    add_class(MotorClass::create());
}

int main(int argc, char* argv[]) {
    try {
        Tango::Util* tango = Tango::Util::init(argc, argv);
        tango->server_init(false);
        std::cout << "Ready to accept request" << std::endl;
        tango->server_run();
    } catch (const std::bad_alloc&) {
        std::cerr << "motor_server: out of memory" << std::endl;
        return 1;
    } catch (const CORBA::Exception& failure) {
        Tango::Except::print_exception(failure);
        return 1;
    }
    Tango::Util::instance()->server_cleanup();
    return 0;
}
