#include "edgeserve/server/device_service.h"

#include "edgeserve/hal/device.h"
#include "edgeserve/server/status_mapping.h"

namespace edgeserve::server {

grpc::ServerUnaryReactor* DeviceService::DeviceList(grpc::CallbackServerContext* context,
                                                    const edgeserve::DeviceListRequest*,
                                                    edgeserve::DeviceListResponse* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  // Discovery reads /proc: cheap, and the free memory is current.
  absl::StatusOr<std::vector<hal::Device>> devices = hal::DiscoverDevices();
  if (devices.ok()) {
    for (const hal::Device& device : *devices) {
      edgeserve::Device* out = response->add_devices();
      out->set_kind(device.kind);
      out->set_index(device.index);
      out->set_name(device.name);
      out->set_memory_total_bytes(device.memory_total_bytes);
      out->set_memory_free_bytes(device.memory_free_bytes);
      for (const std::string& capability : device.capabilities) out->add_capabilities(capability);
    }
  }
  reactor->Finish(ToGrpcStatus(devices.status()));
  return reactor;
}

}  // namespace edgeserve::server
