// The Vulkan driver of the WebGPU suite, set when the suite's module loads, before any WebGPU
// session: the Vulkan loader reads VK_ICD_FILENAMES when Dawn creates its instance. A machine's
// own choice is kept; else Chromium's SwiftShader, a Vulkan device on the CPU.
import * as fs from 'fs';

export const SOFTWARE_VULKAN = '/usr/lib/chromium/vk_swiftshader_icd.json';

if (!process.env.VK_ICD_FILENAMES && fs.existsSync(SOFTWARE_VULKAN)) process.env.VK_ICD_FILENAMES = SOFTWARE_VULKAN;
