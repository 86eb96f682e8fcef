#include "edgeserve/server/device_service.h"

#include "edgeserve/server/wire_messages.h"

namespace edgeserve::server {

grpc::ServerUnaryReactor* DeviceService::DeviceList(grpc::CallbackServerContext* context,
                                                    const grpc::ByteBuffer* raw_request,
                                                    grpc::ByteBuffer* raw_response) {
  return ServeNow<edgeserve::DeviceListRequest, edgeserve::DeviceListResponse>(
      context, raw_request, raw_response,
      [&](const edgeserve::DeviceListRequest&, edgeserve::DeviceListResponse* response) -> absl::Status {
        // Discovery again, so that free memory is current: /proc and the
        // devices' own counters are cheap to read; the NPU plugin stays loaded.
        absl::StatusOr<hal::DeviceInventory> devices = hal::DiscoverDevices(accelerators_);
        if (!devices.ok()) return devices.status();
        for (const hal::Device& device : devices->devices) {
          edgeserve::Device* out = response->add_devices();
          out->set_kind(std::string(hal::KindName(device.kind)));
          out->set_index(device.index);
          out->set_name(device.name);
          out->set_memory_total_bytes(device.memory_total_bytes);
          out->set_memory_free_bytes(device.memory_free_bytes);
          for (const std::string& capability : device.capabilities) out->add_capabilities(capability);
        }
        return absl::OkStatus();
      });
}

}  // namespace edgeserve::server
