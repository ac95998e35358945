//! Where readings come from: the host through sysinfo, or anything else behind [`HostProbe`].

use super::readings::{Cpu, Disk, Group, Host, Memory, Network, Process, Reading};
use sysinfo::{
    Components, CpuRefreshKind, Disks, MemoryRefreshKind, Networks, ProcessRefreshKind,
    ProcessesToUpdate, RefreshKind, System, UpdateKind,
};

/// A source of readings. Called from a blocking thread (sysinfo reads `/proc`).
pub trait HostProbe: Send + 'static {
    fn read(&mut self, group: Group) -> Reading;
}

/// The real host.
pub struct SysinfoProbe {
    system: System,
    disks: Disks,
    networks: Networks,
    components: Components,
    /// Process filters: (name, substring of the process name).
    processes: Vec<(String, String)>,
}

impl SysinfoProbe {
    /// Fails where sysinfo does not support the platform.
    pub fn new(processes: Vec<(String, String)>) -> Result<SysinfoProbe, String> {
        let err = |what: &str, e: sysinfo::Error| format!("reading the host's {what}: {e}");
        let mut system = System::new_with_specifics(
            RefreshKind::nothing()
                .with_cpu(CpuRefreshKind::nothing().with_usage())
                .with_memory(MemoryRefreshKind::everything()),
        )
        .map_err(|e| err("system", e))?;
        // CPU usage is a difference between two refreshes: take the first one now.
        system.refresh_cpu_usage();
        Ok(SysinfoProbe {
            system,
            disks: Disks::new_with_refreshed_list().map_err(|e| err("disks", e))?,
            networks: Networks::new_with_refreshed_list().map_err(|e| err("networks", e))?,
            components: Components::new_with_refreshed_list().map_err(|e| err("sensors", e))?,
            processes,
        })
    }
}

impl HostProbe for SysinfoProbe {
    fn read(&mut self, group: Group) -> Reading {
        match group {
            Group::Cpu => {
                self.system.refresh_cpu_usage();
                let load = System::load_average().unwrap_or_default();
                Reading::Cpu(Cpu {
                    total: self.system.global_cpu_usage().clamp(0.0, 100.0),
                    per_core: self
                        .system
                        .cpus()
                        .iter()
                        .map(|c| c.usage().clamp(0.0, 100.0))
                        .collect(),
                    load: [load.one, load.five, load.fifteen],
                })
            }
            Group::Memory => {
                self.system.refresh_memory();
                Reading::Memory(Memory {
                    total: self.system.total_memory(),
                    used: self.system.used_memory(),
                    available: self.system.available_memory(),
                    swap_total: self.system.total_swap(),
                    swap_used: self.system.used_swap(),
                })
            }
            Group::Disk => {
                self.disks.refresh(true);
                Reading::Disks(
                    self.disks
                        .iter()
                        .map(|d| Disk {
                            mount: d.mount_point().to_string_lossy().into_owned(),
                            total: d.total_space(),
                            available: d.available_space(),
                        })
                        .collect(),
                )
            }
            Group::Network => {
                self.networks.refresh(true);
                Reading::Networks(
                    self.networks
                        .iter()
                        .map(|(name, n)| Network {
                            interface: name.to_string_lossy().into_owned(),
                            received: n.total_received(),
                            transmitted: n.total_transmitted(),
                        })
                        .collect(),
                )
            }
            Group::Temperature => {
                self.components.refresh(true);
                Reading::Temperatures(
                    self.components
                        .iter()
                        .filter_map(|c| Some((c.label().to_string(), c.temperature()?)))
                        .collect(),
                )
            }
            Group::Process => {
                if self.processes.is_empty() {
                    return Reading::Processes(Vec::new());
                }
                self.system.refresh_processes_specifics(
                    ProcessesToUpdate::All,
                    true,
                    ProcessRefreshKind::nothing()
                        .with_cpu()
                        .with_memory()
                        .with_exe(UpdateKind::OnlyIfNotSet),
                );
                let out = self
                    .processes
                    .iter()
                    .map(|(name, filter)| {
                        let mut p = Process {
                            name: name.clone(),
                            ..Default::default()
                        };
                        for proc_ in self.system.processes().values() {
                            if proc_.name().to_string_lossy().contains(filter.as_str()) {
                                p.count += 1;
                                p.cpu += proc_.cpu_usage();
                                p.memory += proc_.memory();
                            }
                        }
                        p
                    })
                    .collect();
                Reading::Processes(out)
            }
            Group::Host => Reading::Host(Host {
                hostname: System::host_name().unwrap_or_default(),
                os: System::long_os_version().unwrap_or_default(),
                kernel: System::kernel_version().unwrap_or_default(),
                uptime_secs: System::uptime().unwrap_or_default(),
                cpu_count: self.system.cpus().len(),
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The real host: values a user would call plausible.
    #[test]
    fn the_real_host_reads_plausibly() {
        let mut probe = SysinfoProbe::new(vec![("self".into(), String::new())]).unwrap();
        std::thread::sleep(sysinfo::MINIMUM_CPU_UPDATE_INTERVAL);
        let Reading::Memory(m) = probe.read(Group::Memory) else {
            panic!()
        };
        assert!(m.total > 0 && m.used <= m.total, "{m:?}");
        let Reading::Cpu(c) = probe.read(Group::Cpu) else {
            panic!()
        };
        assert!((0.0..=100.0).contains(&c.total), "{c:?}");
        assert!(!c.per_core.is_empty());
        let Reading::Host(h) = probe.read(Group::Host) else {
            panic!()
        };
        assert!(h.uptime_secs > 0 && h.cpu_count > 0, "{h:?}");
        let Reading::Processes(p) = probe.read(Group::Process) else {
            panic!()
        };
        assert!(
            p[0].count > 0,
            "an empty filter matches every process, this test's too"
        );
        let Reading::Disks(_) = probe.read(Group::Disk) else {
            panic!()
        };
        let Reading::Networks(_) = probe.read(Group::Network) else {
            panic!()
        };
    }
}
