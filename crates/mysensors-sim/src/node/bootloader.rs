//! The bootloader side of OTA as a pure state machine: decide on a config response, then collect
//! 16-byte blocks in the configured order and check the CRC over the whole image (MYSBootloader).

use switchyard_gateway::providers::mysensors::protocol::firmware::{
    BLOCK_SIZE, BlockOrder, ERASE_EEPROM_CRC, FirmwareConfig, FirmwareRequest, FirmwareResponse,
    crc16,
};

/// What a bootloader does with the controller's ST_FIRMWARE_CONFIG_RESPONSE.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// Same firmware (or nothing to fetch): boot the sketch.
    Boot,
    /// A different type or version: fetch it.
    Fetch,
    /// MYSBootloader's reset marker: erase EEPROM, then ask again.
    EraseEeprom,
}

pub fn decide(running_type: u16, running_version: u16, offered: &FirmwareConfig) -> Decision {
    if offered.blocks == 0 && offered.crc == ERASE_EEPROM_CRC {
        Decision::EraseEeprom
    } else if offered.blocks == 0
        || (offered.firmware_type == running_type && offered.version == running_version)
    {
        Decision::Boot
    } else {
        Decision::Fetch
    }
}

/// A firmware download in progress.
#[derive(Debug, Clone)]
pub struct Transfer {
    target: FirmwareConfig,
    order: BlockOrder,
    image: Vec<u8>,
    current: u16,
    done: u16,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// Ask for this block next.
    Request(FirmwareRequest),
    /// Not the block we asked for (a late duplicate, another firmware): wait on.
    Ignored,
    /// Every block is in; the image's CRC is `actual_crc`.
    Finished { crc_ok: bool, actual_crc: u16 },
}

impl Transfer {
    /// `None` for a config without blocks.
    pub fn start(target: FirmwareConfig, order: BlockOrder) -> Option<Self> {
        let first = match order {
            BlockOrder::Forward => 0,
            BlockOrder::Reverse => target.blocks.checked_sub(1)?,
        };
        (target.blocks > 0).then(|| Transfer {
            target,
            order,
            image: vec![0xFF; usize::from(target.blocks) * BLOCK_SIZE],
            current: first,
            done: 0,
        })
    }

    pub fn target(&self) -> FirmwareConfig {
        self.target
    }

    pub fn done(&self) -> u16 {
        self.done
    }

    /// The request for the block awaited now (sent first, and again on a timeout).
    pub fn request(&self) -> FirmwareRequest {
        FirmwareRequest {
            firmware_type: self.target.firmware_type,
            version: self.target.version,
            block: self.current,
        }
    }

    pub fn on_response(&mut self, response: &FirmwareResponse) -> Step {
        if response.firmware_type != self.target.firmware_type
            || response.version != self.target.version
            || response.block != self.current
        {
            return Step::Ignored;
        }
        let start = usize::from(self.current) * BLOCK_SIZE;
        if let Some(slot) = self.image.get_mut(start..start + BLOCK_SIZE) {
            slot.copy_from_slice(&response.data);
        }
        self.done += 1;
        let next = match self.order {
            BlockOrder::Forward => Some(self.current + 1).filter(|b| *b < self.target.blocks),
            BlockOrder::Reverse => self.current.checked_sub(1),
        };
        match next {
            Some(block) => {
                self.current = block;
                Step::Request(self.request())
            }
            None => {
                let actual_crc = crc16(&self.image);
                Step::Finished {
                    crc_ok: actual_crc == self.target.crc,
                    actual_crc,
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use switchyard_gateway::providers::mysensors::protocol::firmware::FirmwareImage;

    fn run(image: &FirmwareImage, order: BlockOrder, corrupt: Option<u16>) -> (Vec<u16>, Step) {
        let config = image.config(7, 2);
        let mut transfer = Transfer::start(config, order).unwrap();
        let mut asked = vec![transfer.request().block];
        let mut request = transfer.request();
        loop {
            let mut response = image.respond(&request).unwrap();
            if Some(response.block) == corrupt {
                response.data[0] ^= 0x01;
            }
            // A stale duplicate changes nothing.
            let stale = FirmwareResponse {
                block: response.block.wrapping_add(1),
                ..response
            };
            assert_eq!(transfer.on_response(&stale), Step::Ignored);
            match transfer.on_response(&response) {
                Step::Request(next) => {
                    asked.push(next.block);
                    request = next;
                }
                other => return (asked, other),
            }
        }
    }

    #[test]
    fn collects_blocks_in_either_order_and_checks_the_crc() {
        let image = FirmwareImage::from_binary((0..300u16).map(|i| i as u8).collect()).unwrap();
        let blocks = image.blocks();
        let (asked, step) = run(&image, BlockOrder::Reverse, None);
        assert_eq!(asked, (0..blocks).rev().collect::<Vec<_>>());
        assert_eq!(
            step,
            Step::Finished {
                crc_ok: true,
                actual_crc: image.crc()
            }
        );
        let (asked, step) = run(&image, BlockOrder::Forward, None);
        assert_eq!(asked, (0..blocks).collect::<Vec<_>>());
        assert!(matches!(step, Step::Finished { crc_ok: true, .. }));
    }

    #[test]
    fn one_flipped_bit_fails_the_crc() {
        let image = FirmwareImage::from_binary(vec![0x5A; 256]).unwrap();
        let (_, step) = run(&image, BlockOrder::Reverse, Some(3));
        assert!(matches!(step, Step::Finished { crc_ok: false, .. }));
    }

    #[test]
    fn decisions() {
        let offered = FirmwareConfig {
            firmware_type: 7,
            version: 2,
            blocks: 16,
            crc: 0x1234,
        };
        assert_eq!(decide(7, 2, &offered), Decision::Boot);
        assert_eq!(decide(7, 1, &offered), Decision::Fetch);
        assert_eq!(decide(8, 2, &offered), Decision::Fetch);
        assert_eq!(
            decide(7, 1, &FirmwareConfig::erase_eeprom()),
            Decision::EraseEeprom
        );
        let empty = FirmwareConfig {
            blocks: 0,
            ..offered
        };
        assert_eq!(decide(7, 1, &empty), Decision::Boot);
        assert!(Transfer::start(empty, BlockOrder::Reverse).is_none());
        assert!(Transfer::start(empty, BlockOrder::Forward).is_none());
    }
}
